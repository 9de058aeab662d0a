import Yams

/// The keys about client identity and abuse: per-address and per-user limits, login throttling,
/// trusted networks, a listener's `proxy_protocol`, and `map.allowed_backends`.
extension SchemaWalker {
    static let guardLimitKeys = [
        "max_connections", "max_connections_per_ip", "max_preauth_per_ip", "max_sessions_per_user",
        "tls_handshake_timeout", "auth_failure_delay", "trusted_networks",
    ]
    static let authFailureDelayKeys = ["initial", "max"]
    static let proxyProtocolKeys = ["accept_from"]

    /// The guard keys of the `limits:` block (`max_sessions` itself is read with the other limits).
    func readGuardLimits(_ reader: MappingReader, into limits: inout Limits) {
        if let value = reader.optional("max_connections") {
            if let alias = reader.keyNode("max_sessions") {
                collector.report(
                    reader.path("max_connections"), at: reader.keyNode("max_connections"),
                    "max_sessions (line \(collector.line(of: alias))) is another name for max_connections: give one")
            } else if let number = collector.integer(value, reader.path("max_connections"), in: 1...Int.max) {
                limits.maxConnections = number
            }
        }
        func limit(_ key: String, into field: inout Int?) {
            guard let value = reader.optional(key) else { return }
            if let number = collector.integer(value, reader.path(key), in: 1...Int.max) { field = number }
        }
        limit("max_connections_per_ip", into: &limits.maxConnectionsPerIP)
        limit("max_preauth_per_ip", into: &limits.maxPreauthPerIP)
        limit("max_sessions_per_user", into: &limits.maxSessionsPerUser)
        if let value = reader.optional("tls_handshake_timeout"),
            let seconds = collector.seconds(value, reader.path("tls_handshake_timeout"), maximum: Self.maxSeconds)
        {
            limits.tlsHandshakeTimeout = seconds
        }
        if let value = reader["auth_failure_delay"] {
            let path = reader.path("auth_failure_delay")
            if let delay = readAuthFailureDelay(value, path: path, owner: reader.keyNode("auth_failure_delay")) {
                limits.authFailureDelay = delay
            }
        }
        if let value = reader.optional("trusted_networks"),
            let networks = networkList(value, path: reader.path("trusted_networks"), requireEntries: false)
        {
            limits.trustedNetworks = networks
        }
    }

    /// `auth_failure_delay: { initial: 2, max: 15 }`; `initial: 0` turns throttling off.
    func readAuthFailureDelay(_ node: Node, path: String, owner: Node?) -> AuthFailureDelay? {
        guard
            let reader = MappingReader(
                node, path: path, owner: owner, known: Self.authFailureDelayKeys, collector: collector)
        else { return nil }
        var delay = AuthFailureDelay()
        var valid = true
        if let value = reader.optional("initial") {
            if let seconds = collector.secondsOrZero(value, reader.path("initial"), maximum: 3600) {
                delay.initial = seconds
            } else {
                valid = false
            }
        }
        if let value = reader.optional("max") {
            if let seconds = collector.seconds(value, reader.path("max"), maximum: 3600) {
                delay.max = seconds
            } else {
                valid = false
            }
        }
        guard valid else { return nil }
        if delay.max < delay.initial {
            collector.report(
                reader.path("max"), at: reader["max"] ?? reader["initial"] ?? node,
                "max (\(delay.max)) is less than initial (\(delay.initial))")
            return nil
        }
        return delay
    }

    /// A listener's `proxy_protocol: { accept_from: [CIDRs] }`.
    func readProxyProtocol(_ node: Node, path: String, owner: Node?) -> ProxyProtocolConfig? {
        guard
            let reader = MappingReader(
                node, path: path, owner: owner, known: Self.proxyProtocolKeys, collector: collector)
        else { return nil }
        guard let value = reader.required("accept_from") else { return nil }
        return networkList(value, path: reader.path("accept_from"), requireEntries: true).map {
            ProxyProtocolConfig(acceptFrom: $0)
        }
    }

    /// One network or a list of them (`10.0.0.0/8`, `::1/128`, bare addresses); nil after reporting.
    func networkList(_ node: Node, path: String, requireEntries: Bool) -> NetworkSet? {
        let items = stringList(node, path: path)
        if requireEntries, items.isEmpty, !node.isNull {
            collector.report(path, at: node, "at least one network is required")
            return nil
        }
        var networks: [CIDR] = []
        var valid = true
        for item in items {
            guard let text = collector.nonEmptyText(item.node, item.path) else {
                valid = false
                continue
            }
            switch CIDR.parse(text) {
            case .success(let cidr): networks.append(cidr)
            case .failure(let problem):
                collector.report(item.path, at: item.node, problem.message)
                valid = false
            }
        }
        return valid ? NetworkSet(networks) : nil
    }

    /// `map.allowed_backends`: host names, `*.suffix` wildcards and networks; every `map.default`
    /// server must be among them.
    func readAllowedBackends(_ node: Node, path: String) -> AllowedBackends? {
        let items = stringList(node, path: path)
        if items.isEmpty {
            collector.report(path, at: node, "at least one entry is required (leave the key out to allow any backend)")
            return nil
        }
        var patterns: [AllowedBackends.Pattern] = []
        var valid = true
        for item in items {
            guard let text = collector.nonEmptyText(item.node, item.path) else {
                valid = false
                continue
            }
            switch AllowedBackends.parsePattern(text) {
            case .success(let pattern): patterns.append(pattern)
            case .failure(let problem):
                collector.report(item.path, at: item.node, problem.message)
                valid = false
            }
        }
        return valid ? AllowedBackends(patterns) : nil
    }

    /// Reports each `map.default` server that `allowed` does not permit.
    func checkDefaults(_ defaults: [(text: String, node: Node, path: String)], against allowed: AllowedBackends) {
        for item in defaults {
            guard case .success(let parsed) = AddressSyntax.parse(item.text, portRequired: false),
                !allowed.permits(host: parsed.host)
            else { continue }
            collector.report(item.path, at: item.node, "'\(parsed.host)' is not in map.allowed_backends")
        }
    }
}
