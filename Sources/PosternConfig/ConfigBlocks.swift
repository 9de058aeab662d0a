import Foundation
import Yams

/// The `server` and `limits` blocks of the schema.
extension SchemaWalker {
    static let serverKeys =
        ["workers", "event_loop", "admin_listen", "admin_token_file", "log_level", "log_format"] + processServerKeys
    static let limitKeys =
        [
            "login_timeout", "idle_timeout", "login_attempts", "connect_timeout", "max_line", "buffer_size",
            "max_sessions", "max_queued_bytes", "max_preauth_commands", "tcp_keepalive", "tcp_keepalive_idle",
        ] + guardLimitKeys
    static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
    /// Most event-loop queues `server.workers` may ask for.
    static let maxWorkers = 1024
    /// Longest time limit accepted, in seconds (a year): keeps timer arithmetic far from overflow.
    static let maxSeconds: Double = 365 * 24 * 3600
    /// Largest `limits.max_queued_bytes` accepted (1 GiB).
    static let maxQueuedBytes = 1 << 30
    /// Largest `limits.tcp_keepalive_idle` Linux takes (TCP_KEEPIDLE, seconds).
    static let maxKeepaliveIdle = 32767

    /// The `server:` block, and the node of its `admin_listen` value for later cross-checks.
    func readServer(_ node: Node, path: String, owner: Node?) -> (settings: ServerSettings, adminNode: Node?) {
        var settings = ServerSettings()
        guard let reader = MappingReader(node, path: path, owner: owner, known: Self.serverKeys, collector: collector)
        else {
            return (settings, nil)
        }
        if let value = reader.optional("workers"),
            let workers = collector.integer(value, reader.path("workers"), in: 0...Self.maxWorkers)
        {
            settings.workers = workers
        }
        if let value = reader.optional("event_loop"),
            let loop = collector.choice(value, reader.path("event_loop"), as: EventLoopName.self)
        {
            settings.eventLoop = loop
        }
        let adminNode = reader.optional("admin_listen")
        if let adminNode {
            settings.adminListen = socketAddress(adminNode, path: reader.path("admin_listen"))
        }
        if let value = reader.optional("log_level"),
            let level = collector.choice(value, reader.path("log_level"), allowed: Self.logLevels)
        {
            settings.logLevel = level
        }
        readProcessKeys(reader, into: &settings)
        if let value = reader.optional("log_format"),
            let format = collector.choice(value, reader.path("log_format"), as: LogFormatName.self)
        {
            settings.logFormat = format
        }
        if let value = reader.optional("admin_token_file") {
            settings.adminTokenFile = existingFile(value, path: reader.path("admin_token_file"))
        }
        return (settings, adminNode)
    }

    /// The `limits:` block.
    func readLimits(_ node: Node, path: String, owner: Node?) -> Limits {
        var limits = Limits()
        guard let reader = MappingReader(node, path: path, owner: owner, known: Self.limitKeys, collector: collector)
        else {
            return limits
        }
        func seconds(_ key: String, into field: inout Double) {
            guard let value = reader.optional(key) else { return }
            if let number = collector.seconds(value, reader.path(key), maximum: Self.maxSeconds) { field = number }
        }
        func integer(_ key: String, _ range: ClosedRange<Int>, into field: inout Int) {
            guard let value = reader.optional(key) else { return }
            if let number = collector.integer(value, reader.path(key), in: range) { field = number }
        }
        seconds("login_timeout", into: &limits.loginTimeout)
        seconds("idle_timeout", into: &limits.idleTimeout)
        integer("login_attempts", 1...Int.max, into: &limits.loginAttempts)
        seconds("connect_timeout", into: &limits.connectTimeout)
        integer("max_line", 512...1_048_576, into: &limits.maxLine)
        integer("buffer_size", 4096...16_777_216, into: &limits.bufferSize)
        integer("max_sessions", 1...Int.max, into: &limits.maxSessions)
        readGuardLimits(reader, into: &limits)
        integer("max_preauth_commands", 1...1_000_000, into: &limits.maxPreauthCommands)
        integer("tcp_keepalive_idle", 1...Self.maxKeepaliveIdle, into: &limits.tcpKeepaliveIdle)
        if let value = reader.optional("tcp_keepalive"),
            let flag = collector.boolean(value, reader.path("tcp_keepalive"))
        {
            limits.tcpKeepalive = flag
        }
        readQueueCap(reader, into: &limits)
        return limits
    }

    /// `max_queued_bytes`: at least `buffer_size` + `Limits.queueHeadroom`; without the key, the default grows
    /// with a large `buffer_size` so that configurations valid before the key existed stay valid.
    private func readQueueCap(_ reader: MappingReader, into limits: inout Limits) {
        let floor = limits.bufferSize + Limits.queueHeadroom
        guard let value = reader.optional("max_queued_bytes") else {
            limits.maxQueuedBytes = max(limits.maxQueuedBytes, floor)
            return
        }
        let path = reader.path("max_queued_bytes")
        guard let number = collector.integer(value, path, in: 1...Self.maxQueuedBytes) else { return }
        guard number >= floor else {
            collector.report(
                path, at: value,
                "\(number) is too small: must be at least buffer_size + \(Limits.queueHeadroom) (\(floor))")
            return
        }
        limits.maxQueuedBytes = number
    }

}
