/// A list of networks (`trusted_networks`, `proxy_protocol.accept_from`, CIDRs of `map.allowed_backends`).
///
/// The empty set contains nothing.
public struct NetworkSet: Sendable, Hashable, CustomStringConvertible {
    public var networks: [CIDR]

    public init(_ networks: [CIDR] = []) {
        self.networks = networks
    }

    /// Parses every entry (`ADDRESS/LENGTH` or a bare address); nil when one of them is not a network.
    public init?(parsing entries: [String]) {
        var networks: [CIDR] = []
        for entry in entries {
            guard case .success(let cidr) = CIDR.parse(entry) else { return nil }
            networks.append(cidr)
        }
        self.networks = networks
    }

    public var isEmpty: Bool { networks.isEmpty }

    /// Whether any network holds `address`.
    public func contains(_ address: IPAddress) -> Bool {
        networks.contains { $0.contains(address) }
    }

    /// Whether any network holds the literal address `text`; false for anything that is not an address.
    public func contains(_ text: String) -> Bool {
        IPAddress(text).map(contains) ?? false
    }

    /// Whether any network holds the address of these 4 or 16 bytes; false for other lengths.
    public func contains(bytes: some Collection<UInt8>) -> Bool {
        IPAddress(bytes: bytes).map(contains) ?? false
    }

    public var description: String { networks.map(\.description).joined(separator: ", ") }
}
