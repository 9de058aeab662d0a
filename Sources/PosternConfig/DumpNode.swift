/// A YAML value of `ConfigDump`, written in block style: strings double-quoted (escaped), numbers and
/// booleans plain, and a comment in place of a key that has no value to write.
indirect enum DumpNode {
    case scalar(String)
    case map([(String, DumpNode)])
    case list([DumpNode])
    /// Written as `# key: text` in its mapping.
    case comment(String)

    static let null = DumpNode.scalar("null")

    static func string(_ text: String) -> DumpNode { .scalar(quoted(text)) }
    static func optionalString(_ text: String?) -> DumpNode { text.map(string) ?? .null }
    static func int(_ value: Int) -> DumpNode { .scalar(String(value)) }
    static func bool(_ value: Bool) -> DumpNode { .scalar(value ? "true" : "false") }

    /// Whole numbers without a fraction (30, not 30.0).
    static func number(_ value: Double) -> DumpNode {
        if value == value.rounded(), abs(value) < 1e15 { return .scalar(String(Int(value))) }
        return .scalar(String(value))
    }

    /// A YAML double-quoted string: backslash, quote and control characters escaped.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\x" + (hex.count == 1 ? "0" + hex : hex)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// Appends this node as the value of a mapping at `indent` (the caller wrote nothing of it yet).
    func render(into out: inout String, indent: Int) {
        let pad = String(repeating: " ", count: indent)
        switch self {
        case .map(let entries):
            for (key, value) in entries { value.renderEntry(key, into: &out, pad: pad, indent: indent) }
        case .list(let items):
            for item in items { item.renderItem(into: &out, indent: indent) }
        case .scalar(let text):
            out += "\(pad)\(text)\n"
        case .comment(let text):
            out += "\(pad)# \(text)\n"
        }
    }

    private func renderEntry(_ key: String, into out: inout String, pad: String, indent: Int) {
        switch self {
        case .scalar(let text):
            out += "\(pad)\(key): \(text)\n"
        case .comment(let text):
            out += "\(pad)# \(key): \(text)\n"
        case .map(let entries) where entries.isEmpty:
            out += "\(pad)\(key): {}\n"
        case .list(let items) where items.isEmpty:
            out += "\(pad)\(key): []\n"
        case .map, .list:
            out += "\(pad)\(key):\n"
            render(into: &out, indent: indent + 2)
        }
    }

    private func renderItem(into out: inout String, indent: Int) {
        let pad = String(repeating: " ", count: indent)
        switch self {
        case .map(let entries):
            // The first entry goes on the dash's line, the others under it.
            var first = true
            for (key, value) in entries {
                if case .comment = value, first { continue }
                var line = ""
                value.renderEntry(key, into: &line, pad: String(repeating: " ", count: indent + 2), indent: indent + 2)
                if first {
                    line = pad + "- " + line.dropFirst(indent + 2)
                    first = false
                }
                out += line
            }
            if first { out += "\(pad)- {}\n" }
        case .list:
            out += "\(pad)-\n"
            render(into: &out, indent: indent + 2)
        case .scalar(let text):
            out += "\(pad)- \(text)\n"
        case .comment(let text):
            out += "\(pad)# \(text)\n"
        }
    }
}
