#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// An IPv4 or IPv6 address as its 4 or 16 network-order bytes, for network sets and per-address limits.
///
/// An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, what a dual-stack socket reports for an IPv4
/// client) is stored as the IPv4 address, so both spellings compare and match alike.
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    /// 4 bytes for IPv4, 16 for IPv6, in network order.
    public let bytes: [UInt8]

    /// The address from its bytes; nil unless there are exactly 4 or 16.
    public init?(bytes: some Collection<UInt8>) {
        let array = Array(bytes)
        switch array.count {
        case 4: self.bytes = array
        case 16: self.bytes = Self.isV4Mapped(array) ? Array(array[12...]) : array
        default: return nil
        }
    }

    /// Parses a literal address: dotted-quad IPv4 or IPv6 text, optionally in brackets, with an
    /// optional `%zone` after an IPv6 address (the zone is dropped). Host names are not resolved.
    public init?(_ text: some StringProtocol) {
        var text = String(text)
        if text.hasPrefix("[") && text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        if text.contains(":"), let percent = text.firstIndex(of: "%") {
            guard text.index(after: percent) != text.endIndex else { return nil }
            text = String(text[..<percent])
        }
        // inet_pton sees a C string: text after a NUL would pass unchecked.
        guard !text.isEmpty, text.utf8.count <= 45, text.utf8.allSatisfy(AddressSyntax.isAddressByte) else {
            return nil
        }
        if text.contains(":") {
            var buffer = in6_addr()
            guard inet_pton(AF_INET6, text, &buffer) == 1 else { return nil }
            self.init(bytes: withUnsafeBytes(of: &buffer) { Array($0) })
        } else {
            var buffer = in_addr()
            guard inet_pton(AF_INET, text, &buffer) == 1 else { return nil }
            self.init(bytes: withUnsafeBytes(of: &buffer) { Array($0) })
        }
    }

    /// Whether this is an IPv4 address (including one given in IPv4-mapped IPv6 form).
    public var isIPv4: Bool { bytes.count == 4 }

    /// The canonical text: dotted quad, or RFC 5952 IPv6 (lower case, longest zero run as `::`).
    public var description: String {
        var output = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let family = isIPv4 ? AF_INET : AF_INET6
        let ok = bytes.withUnsafeBytes { raw in
            inet_ntop(family, raw.baseAddress, &output, socklen_t(output.count)) != nil
        }
        guard ok else { return bytes.map(String.init).joined(separator: ".") }
        return String(decoding: output.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func isV4Mapped(_ bytes: [UInt8]) -> Bool {
        bytes.count == 16 && bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xff && bytes[11] == 0xff
    }
}
