/// The TLS blocks of the dump: `tls:` (and a listener's `tls_settings:`), `backend_tls:` and `backends:`.
extension ConfigDump {
    static func serverTLS(_ tls: ServerTLSConfig) -> DumpNode {
        let dhParams: DumpNode
        switch tls.dhParams {
        case .auto: dhParams = .string("auto")
        case .file(let path): dhParams = .string(path)
        }
        return .map([
            ("certificate", .string(tls.certificate)),
            ("key", .string(tls.key)),
            (
                "certificates",
                .list(
                    tls.certificates.map { entry in
                        .map([
                            ("certificate", .string(entry.certificate)), ("key", .string(entry.key)),
                            ("server_names", .list(entry.serverNames.map { .string($0) })),
                        ])
                    })
            ),
            ("min_version", .string(tls.minVersion.rawValue)),
            ("max_version", .optionalString(tls.maxVersion?.rawValue)),
            ("ciphers", .string(tls.ciphers)),
            ("ciphersuites", .string(tls.ciphersuites)),
            ("groups", .string(tls.groups)),
            ("prefer_server_ciphers", .bool(tls.preferServerCiphers)),
            ("dh_params", dhParams),
            ("session_resumption", .string(tls.sessionResumption.rawValue)),
            ("session_lifetime", .int(tls.sessionLifetime)),
            ("ticket_key_rotation", .int(tls.ticketKeyRotation)),
            ("session_cache_size", .int(tls.sessionCacheSize)),
            ("client_certificates", .string(tls.clientCertificates.rawValue)),
            ("client_ca_file", .optionalString(tls.clientCAFile)),
            ("strict_sni", .bool(tls.strictSNI)),
        ])
    }

    static func backendTLSEntries(_ tls: BackendTLSConfig) -> [(String, DumpNode)] {
        [
            ("ca_file", .optionalString(tls.caFile)),
            ("ca_path", .optionalString(tls.caPath)),
            ("verify", .bool(tls.verify)),
            ("min_version", .string(tls.minVersion.rawValue)),
            ("max_version", .optionalString(tls.maxVersion?.rawValue)),
            ("ciphers", .optionalString(tls.ciphers)),
            ("ciphersuites", .optionalString(tls.ciphersuites)),
            ("groups", .optionalString(tls.groups)),
            ("certificate", .optionalString(tls.certificate)),
            ("key", .optionalString(tls.key)),
            ("pins", .list(tls.pins.map { .string(pin($0)) })),
        ]
    }

    static func backendTLS(_ tls: BackendTLSConfig) -> DumpNode { .map(backendTLSEntries(tls)) }

    static func backendHost(_ entry: BackendHostConfig) -> DumpNode {
        let host = entry.host.contains(":") ? "[\(entry.host)]" : entry.host
        var entries: [(String, DumpNode)] = [
            ("host", .string(entry.port.map { "\(host):\($0)" } ?? entry.host)),
            ("tls", .optionalString(entry.tlsMode?.rawValue)),
            ("server_name", .optionalString(entry.serverName)),
            ("allow_plaintext_fallback", .bool(entry.allowPlaintextFallback)),
        ]
        entries += backendTLSEntries(entry.tls)
        return .map(entries)
    }

    /// A pin as the file writes it: `usage selector matching-type hex`.
    static func pin(_ pin: TLSAPinConfig) -> String {
        let hex = pin.data.map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }
        return "\(pin.usage) \(pin.selector) \(pin.matchingType) \(hex.joined())"
    }
}
