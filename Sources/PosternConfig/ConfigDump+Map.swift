/// The `map:` block of the dump. The LDAP password is named by its file only.
extension ConfigDump {
    static func map(_ map: MapConfig) -> DumpNode {
        var entries: [(String, DumpNode)] = [
            ("file", .list(map.files.map { .string($0) })),
            ("regex", .list(map.regexFiles.map { .string($0) })),
            ("regex_match", .string(map.regexMatch.rawValue)),
            ("ldap", map.ldap.map(ldap) ?? .null),
            ("order", .list(map.order.map { .string($0.rawValue) })),
            ("default", .list(map.defaultServers.map { .string($0) })),
            ("hashing", .string(map.hashing.rawValue)),
            (
                "cache",
                .map([
                    ("ttl", .number(map.cache.ttl)), ("negative_ttl", .number(map.cache.negativeTTL)),
                    ("stale_ttl", .number(map.cache.staleTTL)), ("size", .int(map.cache.size)),
                ])
            ),
            ("username", username(map.username)),
            ("breaker", .map([("failures", .int(map.breaker.failures)), ("backoff", .number(map.breaker.backoff))])),
        ]
        if let allowed = map.allowedBackends {
            entries.append(("allowed_backends", .list(allowed.patterns.map { .string($0.description) })))
        } else {
            entries.append(("allowed_backends", .comment("not set (any backend)")))
        }
        return .map(entries)
    }

    static func ldap(_ ldap: LDAPMapConfig) -> DumpNode {
        .map([
            ("uri", .list(ldap.uris.map { .string($0) })),
            ("bind_dn", .optionalString(ldap.bindDN)),
            ("password_file", .optionalString(ldap.passwordFile)),
            ("base", .string(ldap.base)),
            ("scope", .string(ldap.scope.rawValue)),
            ("filter", .string(ldap.filter)),
            ("host_attribute", .string(ldap.hostAttribute)),
            ("port_attribute", .string(ldap.portAttribute ?? "")),
            ("user_attribute", .string(ldap.userAttribute ?? "")),
            ("timeout", .number(ldap.timeout)),
            ("starttls", .bool(ldap.startTLS)),
            ("ca_file", .optionalString(ldap.caFile)),
            ("verify", .bool(ldap.verify)),
            ("pool_size", .int(ldap.poolSize)),
        ])
    }

    static func username(_ username: UsernameConfig) -> DumpNode {
        func stage(_ stage: UsernameStage) -> DumpNode {
            .map([
                ("strip_domain", .bool(stage.stripDomain)), ("default_domain", .string(stage.defaultDomain)),
                ("lower_case", .string(stage.lowerCase.rawValue)),
            ])
        }
        return .map([
            ("domain_delimiter", .string(username.domainDelimiter)),
            ("lookup", stage(username.lookup)),
            ("login", stage(username.login)),
            ("key_template", .string(username.keyTemplate)),
            ("from_map", .bool(username.fromMap)),
        ])
    }
}
