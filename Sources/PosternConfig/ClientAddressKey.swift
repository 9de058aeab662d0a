/// The key under which per-client limits count an address: an IPv4 address as it is, an IPv6 address
/// by its /64 (one customer's prefix, which it can fill with addresses at will).
public struct ClientAddressKey: Sendable, Hashable, CustomStringConvertible {
    /// The counted prefix: 4 bytes for IPv4, the first 8 bytes for IPv6.
    public let prefix: [UInt8]

    public init(_ address: IPAddress) {
        prefix = address.isIPv4 ? address.bytes : Array(address.bytes.prefix(8))
    }

    /// The key of a literal address; nil when `text` is not one.
    public init?(_ text: String) {
        guard let address = IPAddress(text) else { return nil }
        self.init(address)
    }

    /// `192.0.2.1`, or `2001:db8:1:2::/64`.
    public var description: String {
        if prefix.count == 4 { return IPAddress(bytes: prefix)?.description ?? "?" }
        let padded = prefix + [UInt8](repeating: 0, count: 8)
        return (IPAddress(bytes: padded)?.description ?? "?") + "/64"
    }
}
