/// `postern config dump`: the effective configuration as YAML, every key with its value (defaults filled in,
/// paths absolute), in the schema's layout, so that it loads back into the same `PosternConfig`. Keys that
/// are not set and have no default are written as `null` or, where the schema has no null form, as a
/// comment. Only file paths are written, never what a secret file holds.
public enum ConfigDump {
    /// The whole configuration.
    public static func yaml(_ config: PosternConfig) -> String {
        var entries: [(String, DumpNode)] = [
            ("server", server(config.server)),
            ("listeners", .list(config.listeners.map(listener))),
        ]
        if let tls = config.tls {
            entries.append(("tls", serverTLS(tls)))
        } else {
            entries.append(("tls", .comment("not set (no listener uses TLS)")))
        }
        entries.append(("backend_tls", backendTLS(config.backendTLS)))
        entries.append(("backends", .list(config.backends.map(backendHost))))
        entries.append(("map", map(config.map)))
        entries.append(("limits", limits(config.limits)))
        entries.append(
            (
                "shutdown",
                .map([
                    ("drain_seconds", .number(config.shutdown.drainSeconds)),
                    ("login_grace_seconds", .number(config.shutdown.loginGraceSeconds)),
                ])
            ))
        var out = "# Effective configuration of \(config.sourcePath) (postern config dump)\n"
        DumpNode.map(entries).render(into: &out, indent: 0)
        return out
    }

    static func server(_ settings: ServerSettings) -> DumpNode {
        .map([
            ("workers", .int(settings.workers)),
            ("event_loop", .string(settings.eventLoop.rawValue)),
            ("admin_listen", settings.adminListen.map { .string($0.description) } ?? .null),
            ("log_level", .string(settings.logLevel)),
            ("pid_file", .optionalString(settings.pidFile)),
            ("user", .optionalString(settings.user)),
            ("group", .optionalString(settings.group)),
        ])
    }

    static func listener(_ listener: ListenerConfig) -> DumpNode {
        var entries: [(String, DumpNode)] = [
            ("name", .string(listener.name)),
            ("protocol", .string(listener.proto.rawValue)),
            ("listen", .list(listener.listen.map { .string($0.description) })),
            ("tls", .string(listener.tls.rawValue)),
        ]
        if let settings = listener.tlsSettings {
            entries.append(("tls_settings", serverTLS(settings)))
        } else {
            entries.append(("tls_settings", .comment("not set (the tls block applies)")))
        }
        entries.append(
            (
                "backend",
                .map([
                    ("port", .int(listener.backend.port)),
                    ("tls", .string(listener.backend.tls.rawValue)),
                    ("send_proxy", .string(listener.backend.sendProxy.rawValue)),
                    ("forward_client", .bool(listener.backend.forwardClient)),
                ])
            ))
        entries.append(("sasl", .list(listener.sasl.map { .string($0.rawValue) })))
        if let sieve = listener.manageSieve {
            entries.append(
                (
                    "managesieve",
                    .map([("sieve", .optionalString(sieve.sieve)), ("notify", .optionalString(sieve.notify))])
                ))
        } else if listener.proto == .managesieve {
            entries.append(("managesieve", .comment("not set (the built-in capabilities)")))
        }
        if let proxy = listener.proxyProtocol {
            entries.append(("proxy_protocol", .map([("accept_from", networks(proxy.acceptFrom))])))
        } else {
            entries.append(("proxy_protocol", .comment("not set (no PROXY header accepted)")))
        }
        return .map(entries)
    }

    static func limits(_ limits: Limits) -> DumpNode {
        .map([
            ("login_timeout", .number(limits.loginTimeout)),
            ("idle_timeout", .number(limits.idleTimeout)),
            ("login_attempts", .int(limits.loginAttempts)),
            ("connect_timeout", .number(limits.connectTimeout)),
            ("max_line", .int(limits.maxLine)),
            ("buffer_size", .int(limits.bufferSize)),
            ("max_connections", .int(limits.maxConnections)),
            ("max_sessions", .comment("another name for max_connections")),
            ("max_connections_per_ip", limits.maxConnectionsPerIP.map { .int($0) } ?? .null),
            ("max_preauth_per_ip", limits.maxPreauthPerIP.map { .int($0) } ?? .null),
            ("max_sessions_per_user", limits.maxSessionsPerUser.map { .int($0) } ?? .null),
            ("tls_handshake_timeout", .number(limits.tlsHandshakeTimeout)),
            (
                "auth_failure_delay",
                .map([
                    ("initial", .number(limits.authFailureDelay.initial)),
                    ("max", .number(limits.authFailureDelay.max)),
                ])
            ),
            ("trusted_networks", networks(limits.trustedNetworks)),
            ("max_queued_bytes", .int(limits.maxQueuedBytes)),
            ("max_preauth_commands", .int(limits.maxPreauthCommands)),
            ("tcp_keepalive", .bool(limits.tcpKeepalive)),
            ("tcp_keepalive_idle", .int(limits.tcpKeepaliveIdle)),
        ])
    }

    static func networks(_ set: NetworkSet) -> DumpNode {
        .list(set.networks.map { .string($0.description) })
    }
}
