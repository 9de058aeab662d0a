import Foundation
import Yams

/// The single-mapping blocks of the schema: `server`, `tls`, `backend_tls`, `map` and `limits`.
extension SchemaWalker {
    static let serverKeys = ["workers", "admin_listen", "log_level"]
    static let serverTLSKeys = [
        "certificate", "key", "min_version", "ciphers", "ciphersuites", "prefer_server_ciphers", "dh_params",
    ]
    static let backendTLSKeys = ["ca_file", "verify", "min_version", "ciphers"]
    static let mapKeys = ["file", "default"]
    static let limitKeys = [
        "login_timeout", "idle_timeout", "login_attempts", "connect_timeout", "max_line", "buffer_size",
        "max_sessions",
    ]
    static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
    /// Most event-loop queues `server.workers` may ask for.
    static let maxWorkers = 1024
    /// Longest time limit accepted, in seconds (a year): keeps timer arithmetic far from overflow.
    static let maxSeconds: Double = 365 * 24 * 3600

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
        let adminNode = reader.optional("admin_listen")
        if let adminNode {
            settings.adminListen = socketAddress(adminNode, path: reader.path("admin_listen"))
        }
        if let value = reader.optional("log_level"),
            let level = collector.choice(value, reader.path("log_level"), allowed: Self.logLevels)
        {
            settings.logLevel = level
        }
        return (settings, adminNode)
    }

    /// The client-facing `tls:` block; certificate and key are required in it.
    func readServerTLS(_ node: Node, path: String, owner: Node?) -> ServerTLSConfig? {
        guard
            let reader = MappingReader(node, path: path, owner: owner, known: Self.serverTLSKeys, collector: collector)
        else {
            return nil
        }
        let certificate = reader.required("certificate").flatMap {
            existingFile($0, path: reader.path("certificate"))
        }
        let key = reader.required("key").flatMap { existingFile($0, path: reader.path("key")) }
        var config = ServerTLSConfig(certificate: certificate ?? "", key: key ?? "")
        if let value = reader.optional("min_version"), let version = tlsVersion(value, path: reader.path("min_version"))
        {
            config.minVersion = version
        }
        if let value = reader.optional("ciphers"), let ciphers = collector.nonEmptyText(value, reader.path("ciphers")) {
            config.ciphers = ciphers
        }
        if let value = reader.optional("ciphersuites"),
            let suites = collector.nonEmptyText(value, reader.path("ciphersuites"))
        {
            config.ciphersuites = suites
        }
        if let value = reader.optional("prefer_server_ciphers"),
            let prefer = collector.boolean(value, reader.path("prefer_server_ciphers"))
        {
            config.preferServerCiphers = prefer
        }
        if let value = reader.optional("dh_params"), let dhParams = dhParams(value, path: reader.path("dh_params")) {
            config.dhParams = dhParams
        }
        guard certificate != nil, key != nil else { return nil }
        return config
    }

    /// The `backend_tls:` block.
    func readBackendTLS(_ node: Node, path: String, owner: Node?) -> BackendTLSConfig {
        var config = BackendTLSConfig()
        guard
            let reader = MappingReader(node, path: path, owner: owner, known: Self.backendTLSKeys, collector: collector)
        else {
            return config
        }
        if let value = reader.optional("ca_file") {
            config.caFile = existingFile(value, path: reader.path("ca_file"))
        }
        if let value = reader.optional("verify"), let verify = collector.boolean(value, reader.path("verify")) {
            config.verify = verify
        }
        if let value = reader.optional("min_version"), let version = tlsVersion(value, path: reader.path("min_version"))
        {
            config.minVersion = version
        }
        if let value = reader.optional("ciphers") {
            config.ciphers = collector.nonEmptyText(value, reader.path("ciphers"))
        }
        return config
    }

    /// The `map:` block: an optional map file and an optional default server.
    func readMap(_ node: Node, path: String, owner: Node?) -> MapConfig {
        var config = MapConfig()
        guard let reader = MappingReader(node, path: path, owner: owner, known: Self.mapKeys, collector: collector)
        else {
            return config
        }
        if let value = reader.optional("file") {
            config.file = existingFile(value, path: reader.path("file"))
        }
        if let value = reader.optional("default"), let text = collector.text(value, reader.path("default")) {
            switch AddressSyntax.parse(text, portRequired: false) {
            case .success: config.defaultServer = text
            case .failure(let problem): collector.report(reader.path("default"), at: value, problem.message)
            }
        }
        return config
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
        return limits
    }

    // MARK: - Values

    /// `"1.2"` or `"1.3"`; the YAML floats 1.2 and 1.3 are taken as the same versions.
    func tlsVersion(_ node: Node, path: String) -> TLSVersion? {
        let allowed = "allowed values: \"1.2\", \"1.3\""
        switch node.scalarTag {
        case Tag.Name.str.rawValue:
            if let text = node.scalar?.string, let version = TLSVersion(rawValue: text) { return version }
        case Tag.Name.float.rawValue:
            if node.float == 1.2 { return .v1_2 }
            if node.float == 1.3 { return .v1_3 }
        case nil:
            collector.report(path, at: node, "expected a TLS version, found \(node.kindDescription) (\(allowed))")
            return nil
        default:
            break
        }
        collector.report(path, at: node, "bad value '\(node.scalar?.string ?? "")' (\(allowed))")
        return nil
    }

    /// `auto`, or a PEM file of DH parameters.
    func dhParams(_ node: Node, path: String) -> DHParams? {
        if node.scalar?.string == "auto" { return .auto }
        return existingFile(node, path: path).map { .file($0) }
    }
}
