import Foundation
import Yams

/// The `tls` (client-facing) and `backend_tls` blocks.
extension SchemaWalker {
    static let serverTLSKeys = [
        "certificate", "key", "min_version", "ciphers", "ciphersuites", "prefer_server_ciphers", "dh_params",
    ]
    static let backendTLSKeys = ["ca_file", "verify", "min_version", "ciphers"]

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
