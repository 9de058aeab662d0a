import Yams

/// The listener keys about logins: `sasl:` and the ManageSieve `managesieve:` block.
extension SchemaWalker {
    static let manageSieveKeys = ["sieve", "notify"]

    /// Reads `sasl` and `managesieve` of one listener into its draft.
    func readLoginSettings(_ reader: MappingReader, into draft: inout ListenerDraft) {
        if let node = reader.optional("sasl") {
            draft.sasl = saslMechanisms(node, path: reader.path("sasl"))
        }
        if let node = reader["managesieve"] {
            let path = reader.path("managesieve")
            if let proto = draft.proto, proto != .managesieve, let key = reader.keyNode("managesieve") {
                collector.report(path, at: key, "only a listener with protocol managesieve takes this block")
            }
            draft.manageSieve = readManageSieve(node, path: path, owner: reader.keyNode("managesieve"))
        }
    }

    /// `sasl:` is a non-empty list of mechanism names without repeats (a single name is accepted).
    func saslMechanisms(_ node: Node, path: String) -> [SASLMechanismName]? {
        let allowed = SASLMechanismName.allCases.map(\.rawValue).joined(separator: ", ")
        let items: [(node: Node, path: String)]
        switch node {
        case .sequence(let sequence):
            items = sequence.enumerated().map { ($1, "\(path)[\($0)]") }
        case .scalar:
            items = [(node, path)]
        default:
            collector.report(
                path, at: node, "expected a list of mechanisms (\(allowed)), found \(node.kindDescription)")
            return nil
        }
        guard !items.isEmpty else {
            collector.report(path, at: node, "at least one mechanism is required (allowed: \(allowed))")
            return nil
        }
        var mechanisms: [SASLMechanismName] = []
        var valid = true
        for item in items {
            guard let text = collector.text(item.node, item.path) else {
                valid = false
                continue
            }
            guard let mechanism = SASLMechanismName(rawValue: text.lowercased()) else {
                collector.report(item.path, at: item.node, "unknown SASL mechanism '\(text)' (allowed: \(allowed))")
                valid = false
                continue
            }
            if mechanisms.contains(mechanism) {
                collector.report(item.path, at: item.node, "mechanism '\(text)' is listed twice")
                valid = false
                continue
            }
            mechanisms.append(mechanism)
        }
        return valid ? mechanisms : nil
    }

    /// The `managesieve:` block: `sieve` (the SIEVE capability) and `notify` (the NOTIFY capability).
    func readManageSieve(_ node: Node, path: String, owner: Node?) -> ManageSieveSettings? {
        guard
            let reader = MappingReader(
                node, path: path, owner: owner, known: Self.manageSieveKeys, collector: collector)
        else { return nil }
        var settings = ManageSieveSettings()
        if let value = reader.optional("sieve") {
            settings.sieve = capabilityText(value, path: reader.path("sieve"), allowEmpty: false)
        }
        if let value = reader["notify"] {
            settings.notify = value.isNull ? "" : capabilityText(value, path: reader.path("notify"), allowEmpty: true)
        }
        return settings
    }

    /// A capability value: printable ASCII words separated by single spaces (it goes into a quoted string).
    private func capabilityText(_ node: Node, path: String, allowEmpty: Bool) -> String? {
        guard let text = allowEmpty ? collector.text(node, path) : collector.nonEmptyText(node, path) else {
            return nil
        }
        let words = text.split(separator: " ", omittingEmptySubsequences: true)
        let printable = text.unicodeScalars.allSatisfy {
            $0.value >= 0x20 && $0.value < 0x7F && $0 != "\"" && $0 != "\\"
        }
        guard printable else {
            collector.report(path, at: node, "use printable ASCII words separated by spaces (no quotes or backslashes)")
            return nil
        }
        return words.joined(separator: " ")
    }
}
