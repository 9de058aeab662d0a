/// A network written as `10.0.0.0/8`, `2001:db8::/32`, or a bare address (a single host: /32 or /128).
///
/// An IPv4 network also matches the IPv4-mapped IPv6 form of its addresses (see ``IPAddress``).
public struct CIDR: Sendable, Hashable, CustomStringConvertible {
    /// The network address, with the bits past the prefix cleared.
    public let network: IPAddress
    /// Leading bits that must match: 0...32 for IPv4, 0...128 for IPv6.
    public let prefixLength: Int

    /// The network of `address` with `prefixLength` bits; nil when the length does not fit the family.
    public init?(address: IPAddress, prefixLength: Int) {
        let bits = address.bytes.count * 8
        guard (0...bits).contains(prefixLength) else { return nil }
        self.prefixLength = prefixLength
        var masked = address.bytes
        for index in masked.indices {
            let kept = max(0, min(8, prefixLength - index * 8))
            masked[index] &= kept == 8 ? 0xff : ~(0xff >> UInt8(kept))
        }
        guard let network = IPAddress(bytes: masked) else { return nil }
        self.network = network
    }

    /// Parses `ADDRESS/LENGTH` or a bare `ADDRESS`; the error says what is wrong, fit for a config issue.
    ///
    /// Bits set past the prefix (`10.1.2.3/8`) are refused: they usually mean a mistyped length.
    public static func parse(_ text: String) -> Result<CIDR, AddressProblem> {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard !parts[0].hasPrefix("["), !parts[0].contains("%"), let address = IPAddress(parts[0]) else {
            return .failure(AddressProblem(message: "'\(parts[0])' is not an IPv4 or IPv6 address (in '\(text)')"))
        }
        // An IPv4-mapped IPv6 network (::ffff:10.0.0.0/104) is kept as IPv4: its length counts IPv4 bits.
        let mapped = parts[0].contains(":") && address.isIPv4
        let writtenBits = mapped ? 128 : address.bytes.count * 8
        var length = address.bytes.count * 8
        if parts.count == 2 {
            let digits = parts[1]
            guard !digits.isEmpty, digits.count <= 3, digits.allSatisfy(\.isASCIIDigit), let value = Int(digits),
                value <= writtenBits, !mapped || value >= 96
            else {
                let range = mapped ? "96...128" : "0...\(writtenBits)"
                return .failure(AddressProblem(message: "bad prefix length '\(parts[1])' in '\(text)' (\(range))"))
            }
            length = mapped ? value - 96 : value
        }
        guard let cidr = CIDR(address: address, prefixLength: length) else {
            return .failure(AddressProblem(message: "bad network '\(text)'"))
        }
        guard cidr.network == address else {
            return .failure(
                AddressProblem(message: "'\(text)' has bits set past the prefix (the network is \(cidr))"))
        }
        return .success(cidr)
    }

    /// Whether `address` lies in this network (always false across families).
    public func contains(_ address: IPAddress) -> Bool {
        guard address.bytes.count == network.bytes.count else { return false }
        return CIDR(address: address, prefixLength: prefixLength)?.network == network
    }

    public var description: String { "\(network)/\(prefixLength)" }
}
