import Yams

/// The process keys of `server:` (`pid_file`, `user`, `group`) and the `shutdown:` block.
extension SchemaWalker {
    static let processServerKeys = ["pid_file", "user", "group"]
    static let shutdownKeys = ["drain_seconds", "login_grace_seconds"]

    /// `server.pid_file` (a path, absolute after resolution against the config's folder), `server.user`
    /// and `server.group` (names or numeric ids; whether they exist is checked when they are used).
    func readProcessKeys(_ reader: MappingReader, into settings: inout ServerSettings) {
        if let value = reader.optional("pid_file"), let raw = collector.nonEmptyText(value, reader.path("pid_file")) {
            if raw.hasSuffix("/") {
                collector.report(reader.path("pid_file"), at: value, "'\(raw)' names a folder, not a file")
            } else {
                settings.pidFile = ConfigLoader.absolutePath(raw, relativeTo: baseDirectory)
            }
        }
        for key in ["user", "group"] {
            guard let value = reader.optional(key), let name = collector.nonEmptyText(value, reader.path(key)) else {
                continue
            }
            guard !name.contains(where: { $0.isWhitespace || $0 == ":" }) else {
                collector.report(reader.path(key), at: value, "'\(name)' is not a \(key) name or id")
                continue
            }
            if key == "user" { settings.user = name } else { settings.group = name }
        }
    }

    /// The `shutdown:` block.
    func readShutdown(_ node: Node, path: String, owner: Node?) -> ShutdownSettings {
        var settings = ShutdownSettings()
        guard let reader = MappingReader(node, path: path, owner: owner, known: Self.shutdownKeys, collector: collector)
        else { return settings }
        if let value = reader.optional("drain_seconds"),
            let seconds = collector.secondsOrZero(value, reader.path("drain_seconds"), maximum: Self.maxDrainSeconds)
        {
            settings.drainSeconds = seconds
        }
        if let value = reader.optional("login_grace_seconds"),
            let seconds = collector.secondsOrZero(
                value, reader.path("login_grace_seconds"), maximum: Self.maxLoginGraceSeconds)
        {
            settings.loginGraceSeconds = seconds
        }
        return settings
    }

    /// Longest drain accepted (a day): a stop that waits longer is not a stop.
    static let maxDrainSeconds: Double = 86_400
    /// Longest login grace accepted: a login takes seconds, not minutes.
    static let maxLoginGraceSeconds: Double = 300
}
