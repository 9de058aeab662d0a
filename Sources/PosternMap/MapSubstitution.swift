/// Why text taken from a login name may not be pasted into a map value.
public enum MapSubstitutionProblem: Error, Sendable, Equatable, CustomStringConvertible {
    /// A character that separates servers or parts of a server in a map value: `,`, space, tab, `@`, `:`, `[`, `]`.
    case separator(Character)
    /// A C0 control character (NUL, CR, LF, ...), DEL or a C1 control character; its code point.
    case controlCharacter(UInt32)

    public var description: String {
        switch self {
        case .separator(let character):
            let shown = character == " " ? "space" : character == "\t" ? "tab" : "'\(character)'"
            return "\(shown) in substituted text"
        case .controlCharacter(let value): return "control character \(value) in substituted text"
        }
    }
}

/// The check on every piece of client-supplied text (regex groups `$0`...`$9`, the text before an
/// unanchored match) before it becomes part of a map value, so a login name cannot add servers,
/// ports or a backend user of its own choosing.
public enum MapSubstitution {
    /// The characters a map value is split on or that shape one server in it.
    public static let separators: Set<Character> = [",", " ", "\t", "@", ":", "[", "]"]

    /// Nil when `text` may be substituted; otherwise the first offending character.
    public static func problem(in text: some StringProtocol) -> MapSubstitutionProblem? {
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) {
                return .controlCharacter(scalar.value)
            }
            if separators.contains(Character(scalar)) { return .separator(Character(scalar)) }
        }
        return nil
    }

    /// Nil when the UTF-8 bytes may be substituted (invalid UTF-8 counts as a control character).
    public static func problem(inBytes bytes: some Collection<UInt8>) -> MapSubstitutionProblem? {
        guard let text = String(validating: Array(bytes), as: UTF8.self) else { return .controlCharacter(0xFFFD) }
        return problem(in: text)
    }
}
