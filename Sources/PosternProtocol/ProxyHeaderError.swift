/// Why bytes at the start of a connection are not an acceptable PROXY header; the connection is dropped.
public enum ProxyHeaderError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Neither the v1 `PROXY ` prefix nor the v2 signature.
    case notAProxyHeader
    /// v1: no CRLF within the first 107 bytes.
    case lineTooLong
    /// v1: a CR not followed by LF, or a LF alone.
    case badLineEnding
    /// v1: a byte outside printable ASCII in the line.
    case badCharacter
    /// v1: not `TCP4`, `TCP6` or `UNKNOWN`, or the wrong number of fields.
    case badProtocol
    /// v1: an address that is not a canonical address of the announced family.
    case badAddress
    /// v1: a port that is not a decimal 0...65535 without leading zeros.
    case badPort
    /// v2: a version other than 2 in the high nibble of byte 13.
    case unsupportedVersion(UInt8)
    /// v2: a command other than LOCAL (0) or PROXY (1).
    case badCommand(UInt8)
    /// v2: an unassigned address family or transport protocol.
    case badFamily(UInt8)
    /// v2: the length is shorter than the addresses of the announced family.
    case addressBlockTooShort
    /// v2: the announced header is longer than the bound the receiver accepts.
    case headerTooLong(Int)
    /// v2: a TLV (or a sub-TLV of PP2_TYPE_SSL) runs past the end of the header.
    case badTLV

    public var description: String {
        switch self {
        case .notAProxyHeader: return "not a PROXY protocol header"
        case .lineTooLong: return "PROXY v1 line longer than 107 bytes"
        case .badLineEnding: return "PROXY v1 line not ended by CRLF"
        case .badCharacter: return "non-printable byte in PROXY v1 line"
        case .badProtocol: return "PROXY v1 line is not TCP4, TCP6 or UNKNOWN with its fields"
        case .badAddress: return "bad address in PROXY v1 line"
        case .badPort: return "bad port in PROXY v1 line"
        case .unsupportedVersion(let version): return "PROXY v2 header with version \(version)"
        case .badCommand(let command): return "PROXY v2 header with command \(command)"
        case .badFamily(let family): return "PROXY v2 header with family/protocol byte \(family)"
        case .addressBlockTooShort: return "PROXY v2 address block shorter than its family needs"
        case .headerTooLong(let length): return "PROXY v2 header of \(length) bytes is over the limit"
        case .badTLV: return "malformed TLV in PROXY v2 header"
        }
    }
}
