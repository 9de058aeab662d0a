/// Why a login name (or authorization identity) is refused before any routing.
public enum LoginNameError: Error, Sendable, Equatable, CustomStringConvertible {
    case empty
    /// Longer than ``LoginName/maxBytes`` bytes of UTF-8.
    case tooLong(bytes: Int)
    case nul
    /// A C0 control character (CR, LF, TAB, ...), DEL, or a C1 control character; its code point.
    case controlCharacter(UInt32)

    public var description: String {
        switch self {
        case .empty: return "empty login name"
        case .tooLong(let bytes): return "login name too long (\(bytes) bytes, at most \(LoginName.maxBytes))"
        case .nul: return "NUL in login name"
        case .controlCharacter(let value): return "control character U+\(hex(value)) in login name"
        }
    }

    private func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}

/// The one check of a client's login name on every login path (IMAP LOGIN, AUTHENTICATE PLAIN with its
/// authcid and authzid, AUTHENTICATE LOGIN, POP3 USER, ManageSieve, token mechanisms), before routing.
public enum LoginName {
    /// Longest login name accepted, in bytes of UTF-8 (what Dovecot and most directories allow).
    public static let maxBytes = 255

    /// Nil when `name` may be used as a login name; otherwise why not.
    public static func validate(_ name: some StringProtocol) -> LoginNameError? {
        let bytes = name.utf8.count
        guard bytes > 0 else { return .empty }
        guard bytes <= maxBytes else { return .tooLong(bytes: bytes) }
        for scalar in name.unicodeScalars {
            if scalar.value == 0 { return .nul }
            if isControl(scalar) { return .controlCharacter(scalar.value) }
        }
        return nil
    }

    /// An optional identity (the SASL authzid): absent or empty is fine, anything else is checked.
    public static func validateOptional(_ name: (some StringProtocol)?) -> LoginNameError? {
        guard let name, !name.isEmpty else { return nil }
        return validate(name)
    }

    /// C0 controls, DEL and C1 controls.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }
}
