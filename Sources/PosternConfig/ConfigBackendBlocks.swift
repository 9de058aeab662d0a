import Foundation
import Yams

/// The `backend_tls:` block and the `backends:` list (per-backend TLS settings).
extension SchemaWalker {
    static let backendTLSKeys = [
        "ca_file", "ca_path", "verify", "min_version", "max_version", "ciphers", "ciphersuites", "groups",
        "certificate", "key", "pins",
    ]
    static let backendHostKeys = ["host", "tls", "server_name", "allow_plaintext_fallback"] + backendTLSKeys

    /// The `backend_tls:` block.
    func readBackendTLS(_ node: Node, path: String, owner: Node?) -> BackendTLSConfig {
        var config = BackendTLSConfig()
        guard
            let reader = MappingReader(node, path: path, owner: owner, known: Self.backendTLSKeys, collector: collector)
        else {
            return config
        }
        applyBackendTLS(reader, to: &config)
        return config
    }

    /// Applies the backend TLS keys present in `reader` over `config`.
    func applyBackendTLS(_ reader: MappingReader, to config: inout BackendTLSConfig) {
        if let value = reader.optional("ca_file") {
            config.caFile = existingFile(value, path: reader.path("ca_file"))
        }
        if let value = reader.optional("ca_path") {
            config.caPath = existingDirectory(value, path: reader.path("ca_path"))
        }
        if let value = reader.optional("verify"), let verify = collector.boolean(value, reader.path("verify")) {
            config.verify = verify
        }
        readVersions(reader, min: &config.minVersion, max: &config.maxVersion)
        text(reader, "ciphers", into: &config.ciphers)
        text(reader, "ciphersuites", into: &config.ciphersuites)
        text(reader, "groups", into: &config.groups)
        let certificateNode = reader.optional("certificate")
        let keyNode = reader.optional("key")
        if certificateNode != nil || keyNode != nil {
            // A client certificate and its key go together.
            config.certificate = reader.required("certificate").flatMap {
                existingFile($0, path: reader.path("certificate"))
            }
            config.key = reader.required("key").flatMap { existingFile($0, path: reader.path("key")) }
        }
        if let value = reader.optional("pins") {
            config.pins = pins(value, path: reader.path("pins"))
        }
        if !config.verify, config.pins.contains(where: { $0.usage < 2 }) {
            let node = reader.optional("pins") ?? reader.optional("verify") ?? reader.node
            collector.report(
                reader.path("pins"), at: node,
                "pins of usage 0 or 1 constrain the CA check, which verify: false turns off (use usage 2 or 3)")
        }
    }

    /// `pins:`, a list of TLSA-style records `usage selector matching-type hex` (a single string is accepted).
    func pins(_ node: Node, path: String) -> [TLSAPinConfig] {
        let items: [(Node, String)]
        switch node {
        case .sequence(let sequence): items = sequence.enumerated().map { ($1, "\(path)[\($0)]") }
        default: items = [(node, path)]
        }
        return items.compactMap { item, itemPath in
            guard let text = collector.nonEmptyText(item, itemPath) else { return nil }
            switch Self.parsePin(text) {
            case .success(let pin): return pin
            case .failure(let problem):
                collector.report(itemPath, at: item, problem.message)
                return nil
            }
        }
    }

    /// Parses `3 1 1 9f86d081...` (usage, selector, matching type, hex data, as in a TLSA record).
    static func parsePin(_ text: String) -> Result<TLSAPinConfig, ValueProblem> {
        let form = "expected 'usage selector matching-type hex', e.g. '3 1 1 9f86d081...'"
        let fields = text.split(whereSeparator: \.isWhitespace)
        guard fields.count == 4 else { return .failure(ValueProblem(message: "bad pin '\(text)' (\(form))")) }
        guard let usage = Int(fields[0]), (0...3).contains(usage) else {
            return .failure(
                ValueProblem(
                    message: "bad pin usage '\(fields[0])' (0-3; 3 = the backend's own "
                        + "certificate or key, 2 = a trust anchor)"))
        }
        guard let selector = Int(fields[1]), (0...1).contains(selector) else {
            return .failure(ValueProblem(message: "bad pin selector '\(fields[1])' (0 = certificate, 1 = public key)"))
        }
        guard let matching = Int(fields[2]), (0...2).contains(matching) else {
            return .failure(
                ValueProblem(message: "bad pin matching type '\(fields[2])' (0 = exact, 1 = SHA-256, 2 = SHA-512)"))
        }
        let hex = Array(fields[3].utf8)
        guard hex.count % 2 == 0, let data = Self.hexBytes(hex) else {
            return .failure(ValueProblem(message: "bad pin data '\(fields[3])' (expected hexadecimal digits)"))
        }
        let lengths = [1: 32, 2: 64]
        if let length = lengths[matching], data.count != length {
            return .failure(
                ValueProblem(
                    message: "pin data has \(data.count) bytes; matching type \(matching) needs \(length) "
                        + "(\(length * 2) hex digits)"))
        }
        return .success(TLSAPinConfig(usage: usage, selector: selector, matchingType: matching, data: data))
    }

    private static func hexBytes(_ hex: [UInt8]) -> [UInt8]? {
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hex.count / 2)
        var index = 0
        while index < hex.count {
            guard let high = nibble(hex[index]), let low = nibble(hex[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    /// `backends:`, a list of per-backend settings, each merged over `base` (the `backend_tls:` block).
    func readBackendHosts(_ node: Node, path: String, base: BackendTLSConfig) -> [BackendHostConfig] {
        guard case .sequence(let sequence) = node else {
            collector.report(path, at: node, "expected a list of backends, found \(node.kindDescription)")
            return []
        }
        var seen: [String: Node] = [:]
        return sequence.enumerated().compactMap { index, item in
            let itemPath = "\(path)[\(index)]"
            guard let reader = MappingReader(item, path: itemPath, known: Self.backendHostKeys, collector: collector)
            else { return nil }
            var tls = base
            applyBackendTLS(reader, to: &tls)
            var hostPort: HostPort?
            if let hostNode = reader.required("host"), let text = collector.nonEmptyText(hostNode, reader.path("host"))
            {
                switch AddressSyntax.parse(text, portRequired: false) {
                case .success(let parsed):
                    hostPort = parsed
                    let identity = "\(parsed.host.lowercased()) \(parsed.port.map(String.init) ?? "*")"
                    if let first = seen[identity] {
                        collector.report(
                            reader.path("host"), at: hostNode,
                            "backend '\(text)' is already configured at line \(collector.line(of: first))")
                    }
                    seen[identity] = hostNode
                case .failure(let problem):
                    collector.report(reader.path("host"), at: hostNode, problem.message)
                }
            }
            var entry = BackendHostConfig(host: hostPort?.host ?? "", port: hostPort?.port, tls: tls)
            if let value = reader.optional("tls") {
                entry.tlsMode = collector.choice(value, reader.path("tls"), as: BackendTLSMode.self)
            }
            if let value = reader.optional("server_name"),
                let name = collector.nonEmptyText(value, reader.path("server_name"))
            {
                if Self.isServerName(name, wildcard: false) || AddressSyntax.isIPv6(name) {
                    entry.serverName = name
                } else {
                    collector.report(
                        reader.path("server_name"), at: value, "'\(name)' is not a host name or an IP address")
                }
            }
            if let value = reader.optional("allow_plaintext_fallback"),
                let allow = collector.boolean(value, reader.path("allow_plaintext_fallback"))
            {
                entry.allowPlaintextFallback = allow
            }
            return hostPort == nil ? nil : entry
        }
    }
}

/// Why a value was rejected, in words fit for a config issue.
struct ValueProblem: Error, Equatable {
    var message: String
}
