/// A value Postern refused to put into a PROXY v2 TLV.
public enum ProxyEncodeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Which value it was.
    public enum Field: String, Sendable, Equatable {
        case authority, uniqueID = "unique-id", tlsVersion = "tls-version", tlsCipher = "tls-cipher"
    }

    /// A control character (CR, LF, NUL or any other below 0x20, or DEL) in the value.
    case controlCharacter(Field)
    /// Longer than the field allows (128 bytes for the unique id, 65535 for any TLV).
    case tooLong(Field, bytes: Int)
    /// The whole v2 header would pass 16 + 65535 bytes.
    case headerTooLong(bytes: Int)

    public var description: String {
        switch self {
        case .controlCharacter(let field): return "control character in the PROXY \(field.rawValue) value"
        case .tooLong(let field, let bytes): return "PROXY \(field.rawValue) value too long (\(bytes) bytes)"
        case .headerTooLong(let bytes): return "PROXY v2 header too long (\(bytes) bytes)"
        }
    }
}
