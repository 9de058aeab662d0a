import Foundation
import Yams

/// The client-facing `tls:` block and a listener's `tls_settings:` override.
extension SchemaWalker {
    static let serverTLSKeys = [
        "certificate", "key", "certificates", "min_version", "max_version", "ciphers", "ciphersuites", "groups",
        "prefer_server_ciphers", "dh_params", "session_resumption", "session_lifetime", "ticket_key_rotation",
        "session_cache_size", "client_certificates", "client_ca_file", "strict_sni",
    ]
    static let certificateEntryKeys = ["certificate", "key", "server_names"]
    /// Longest session lifetime and ticket key rotation accepted, in seconds (a week).
    static let maxSessionSeconds = 7 * 24 * 3600

    /// The `tls:` block (`base` nil: certificate and key required) or a listener's `tls_settings:` (`base` is the
    /// `tls:` block, if any: every key given replaces the base's value, the others are inherited).
    func readServerTLS(_ node: Node, path: String, owner: Node?, base: ServerTLSConfig? = nil) -> ServerTLSConfig? {
        guard
            let reader = MappingReader(node, path: path, owner: owner, known: Self.serverTLSKeys, collector: collector)
        else {
            return nil
        }
        var config = base ?? ServerTLSConfig(certificate: "", key: "")
        var complete = true
        if base == nil || reader.optional("certificate") != nil || reader.optional("key") != nil {
            // The default certificate and its key go together.
            let certificate = reader.required("certificate").flatMap {
                existingFile($0, path: reader.path("certificate"))
            }
            let key = reader.required("key").flatMap { existingFile($0, path: reader.path("key")) }
            if let certificate, let key {
                config.certificate = certificate
                config.key = key
            } else {
                complete = false
            }
        }
        if let value = reader.optional("certificates") {
            config.certificates = certificateEntries(value, path: reader.path("certificates"))
        }
        readVersions(reader, min: &config.minVersion, max: &config.maxVersion)
        text(reader, "ciphers", into: &config.ciphers)
        text(reader, "ciphersuites", into: &config.ciphersuites)
        text(reader, "groups", into: &config.groups)
        if let value = reader.optional("prefer_server_ciphers"),
            let prefer = collector.boolean(value, reader.path("prefer_server_ciphers"))
        {
            config.preferServerCiphers = prefer
        }
        if let value = reader.optional("strict_sni"), let strict = collector.boolean(value, reader.path("strict_sni")) {
            config.strictSNI = strict
        }
        if let value = reader.optional("dh_params"), let dhParams = dhParams(value, path: reader.path("dh_params")) {
            config.dhParams = dhParams
        }
        if let value = reader.optional("session_resumption"),
            let mode = collector.choice(value, reader.path("session_resumption"), as: SessionResumptionMode.self)
        {
            config.sessionResumption = mode
        }
        integer(reader, "session_lifetime", 1...Self.maxSessionSeconds, into: &config.sessionLifetime)
        integer(reader, "ticket_key_rotation", 60...Self.maxSessionSeconds, into: &config.ticketKeyRotation)
        integer(reader, "session_cache_size", 1...10_000_000, into: &config.sessionCacheSize)
        if let value = reader.optional("client_certificates"),
            let mode = collector.choice(value, reader.path("client_certificates"), as: ClientCertificateMode.self)
        {
            config.clientCertificates = mode
        }
        if let value = reader.optional("client_ca_file") {
            config.clientCAFile = existingFile(value, path: reader.path("client_ca_file"))
        }
        // Checked where client_certificates is given (an inherited problem was reported in `tls:` already).
        if config.clientCertificates != .none && config.clientCAFile == nil && reader.optional("client_ca_file") == nil
            && reader.optional("client_certificates") != nil
        {
            let node = reader.keyNode("client_certificates") ?? owner ?? node
            collector.report(
                reader.path("client_ca_file"), at: node,
                "client_certificates: \(config.clientCertificates.rawValue) needs client_ca_file (the CA bundle "
                    + "that client certificates must chain to)")
        }
        return complete ? config : nil
    }

    /// `certificates:`, a list of `{certificate, key, server_names}`.
    func certificateEntries(_ node: Node, path: String) -> [ServerCertificateConfig] {
        guard case .sequence(let sequence) = node else {
            collector.report(path, at: node, "expected a list of certificates, found \(node.kindDescription)")
            return []
        }
        return sequence.enumerated().compactMap { index, item in
            let itemPath = "\(path)[\(index)]"
            guard
                let reader = MappingReader(
                    item, path: itemPath, known: Self.certificateEntryKeys, collector: collector)
            else { return nil }
            let certificate = reader.required("certificate").flatMap {
                existingFile($0, path: reader.path("certificate"))
            }
            let key = reader.required("key").flatMap { existingFile($0, path: reader.path("key")) }
            var names: [String] = []
            if let value = reader.optional("server_names") {
                names = serverNames(value, path: reader.path("server_names"))
            }
            guard let certificate, let key else { return nil }
            return ServerCertificateConfig(certificate: certificate, key: key, serverNames: names)
        }
    }

    /// One server name or a list of them: host names, optionally starting with `*.`; lower-cased.
    func serverNames(_ node: Node, path: String) -> [String] {
        let items: [(Node, String)]
        switch node {
        case .sequence(let sequence):
            items = sequence.enumerated().map { ($1, "\(path)[\($0)]") }
        default:
            items = [(node, path)]
        }
        return items.compactMap { item, itemPath in
            guard let name = collector.nonEmptyText(item, itemPath) else { return nil }
            guard Self.isServerName(name) else {
                collector.report(
                    itemPath, at: item,
                    "'\(name)' is not a server name (a host name such as mail.example.org or *.example.org)")
                return nil
            }
            return name.lowercased()
        }
    }

    static func isServerName(_ name: String, wildcard: Bool = true) -> Bool {
        var labels = name.split(separator: ".", omittingEmptySubsequences: false)
        if wildcard, labels.count > 1, labels.first == "*" { labels.removeFirst() }
        return !labels.isEmpty
            && labels.allSatisfy { label in
                !label.isEmpty && label.count <= 63 && label.first != "-" && label.last != "-"
                    && label.allSatisfy { $0.isASCIILetterOrDigit || $0 == "-" }
            }
    }

    // MARK: - Shared TLS value readers

    /// `min_version` and `max_version`; a maximum below the minimum is reported at `max_version`.
    func readVersions(_ reader: MappingReader, min: inout TLSVersion, max: inout TLSVersion?) {
        if let value = reader.optional("min_version"), let version = tlsVersion(value, path: reader.path("min_version"))
        {
            min = version
        }
        if let value = reader.optional("max_version"), let version = tlsVersion(value, path: reader.path("max_version"))
        {
            max = version
        }
        let given = reader.optional("min_version") != nil || reader.optional("max_version") != nil
        if min == .v1_3, max == .v1_2, given {
            collector.report(
                reader.path("max_version"), at: reader.optional("max_version") ?? reader.optional("min_version"),
                "max_version \"1.2\" is below min_version \"1.3\"")
        }
    }

    func text(_ reader: MappingReader, _ key: String, into field: inout String) {
        if let value = reader.optional(key), let text = collector.nonEmptyText(value, reader.path(key)) {
            field = text
        }
    }

    func text(_ reader: MappingReader, _ key: String, into field: inout String?) {
        if let value = reader.optional(key), let text = collector.nonEmptyText(value, reader.path(key)) {
            field = text
        }
    }

    func integer(_ reader: MappingReader, _ key: String, _ range: ClosedRange<Int>, into field: inout Int) {
        if let value = reader.optional(key), let number = collector.integer(value, reader.path(key), in: range) {
            field = number
        }
    }

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

    /// A path to an existing folder, returned absolute and standardized.
    func existingDirectory(_ node: Node, path: String) -> String? {
        guard let raw = collector.nonEmptyText(node, path) else { return nil }
        let resolved = ConfigLoader.absolutePath(raw, relativeTo: baseDirectory)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory), isDirectory.boolValue else {
            collector.report(path, at: node, "folder not found: '\(raw)' (\(resolved))")
            return nil
        }
        return resolved
    }
}
