#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// An IP address and TCP port carried in a PROXY header.
public struct ProxyEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// 4 bytes (IPv4) or 16 bytes (IPv6), network order.
    public let address: [UInt8]
    public let port: UInt16

    /// Nil unless `address` has 4 or 16 bytes.
    public init?(address: some Collection<UInt8>, port: UInt16) {
        let bytes = Array(address)
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.address = bytes
        self.port = port
    }

    /// From a literal IPv4 or IPv6 address (no brackets, no zone); nil for anything else.
    public init?(text: some StringProtocol, port: UInt16) {
        guard let bytes = Self.parseAddress(String(text)) else { return nil }
        self.address = bytes
        self.port = port
    }

    public var isIPv4: Bool { address.count == 4 }

    /// The address as text: dotted quad, or canonical (RFC 5952) IPv6.
    public var addressText: String {
        var output = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let family = isIPv4 ? AF_INET : AF_INET6
        let ok = address.withUnsafeBytes { raw in
            inet_ntop(family, raw.baseAddress, &output, socklen_t(output.count)) != nil
        }
        guard ok else { return "?" }
        return String(decoding: output.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public var description: String { isIPv4 ? "\(addressText):\(port)" : "[\(addressText)]:\(port)" }

    /// The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`), or nil.
    var unmappedIPv4: ProxyEndpoint? {
        guard address.count == 16, address[0..<10].allSatisfy({ $0 == 0 }), address[10] == 0xff, address[11] == 0xff
        else { return nil }
        return ProxyEndpoint(address: address[12...], port: port)
    }

    /// The same address as IPv4-mapped IPv6 when it is IPv4.
    var asIPv6: ProxyEndpoint {
        guard isIPv4 else { return self }
        return ProxyEndpoint(address: [UInt8](repeating: 0, count: 10) + [0xff, 0xff] + address, port: port) ?? self
    }

    static func parseAddress(_ text: String) -> [UInt8]? {
        // inet_pton sees a C string: only hex digits, `:` and `.` go to it, so no NUL hides the rest.
        let isAddressByte = { (byte: UInt8) in
            (0x30...0x39).contains(byte) || (0x41...0x46).contains(byte) || (0x61...0x66).contains(byte)
                || byte == UInt8(ascii: ":") || byte == UInt8(ascii: ".")
        }
        guard !text.isEmpty, text.utf8.count <= 45, text.utf8.allSatisfy(isAddressByte) else { return nil }
        if text.contains(":") {
            var buffer = in6_addr()
            guard inet_pton(AF_INET6, text, &buffer) == 1 else { return nil }
            return withUnsafeBytes(of: &buffer) { Array($0) }
        }
        var buffer = in_addr()
        guard inet_pton(AF_INET, text, &buffer) == 1 else { return nil }
        return withUnsafeBytes(of: &buffer) { Array($0) }
    }
}
