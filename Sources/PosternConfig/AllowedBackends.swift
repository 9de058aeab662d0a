/// `map.allowed_backends`: the only hosts a route may send a login to, whatever source gave it.
///
/// Entries are host names (matched without regard to case or a trailing dot), `*.suffix` wildcards
/// (any name ending in `.suffix`, not `suffix` itself) and networks (CIDRs or bare addresses, matched
/// against literal IP addresses). A host name is matched by name only: it is not resolved here.
public struct AllowedBackends: Sendable, Hashable, CustomStringConvertible {
    /// One entry of the list.
    public enum Pattern: Sendable, Hashable, CustomStringConvertible {
        /// A host name, lower case, without a trailing dot.
        case host(String)
        /// `*.mail.example.org` is stored as `mail.example.org`.
        case suffix(String)
        case network(CIDR)

        public var description: String {
            switch self {
            case .host(let name): return name
            case .suffix(let name): return "*.\(name)"
            case .network(let cidr): return cidr.description
            }
        }
    }

    public var patterns: [Pattern]

    public init(_ patterns: [Pattern]) {
        self.patterns = patterns
    }

    /// Parses every entry; nil when one is not a host name, `*.suffix` or network.
    public init?(parsing entries: [String]) {
        var patterns: [Pattern] = []
        for entry in entries {
            guard case .success(let pattern) = Self.parsePattern(entry) else { return nil }
            patterns.append(pattern)
        }
        self.patterns = patterns
    }

    /// One entry: a network when it reads as an address or CIDR, a wildcard when it starts with `*.`,
    /// a host name otherwise. The error is worded for a config issue.
    public static func parsePattern(_ text: String) -> Result<Pattern, AddressProblem> {
        if text.contains("/") || IPAddress(text) != nil {
            return CIDR.parse(text).map(Pattern.network)
        }
        if text.hasPrefix("*.") {
            let name = normalized(text.dropFirst(2))
            guard isNormalizedName(name) else {
                return .failure(AddressProblem(message: "bad wildcard '\(text)' (expected *.domain.example)"))
            }
            return .success(.suffix(name))
        }
        let name = normalized(Substring(text))
        // `10.0.0.1.` is the address: a host pattern could never match it (addresses match networks only).
        if IPAddress(name) != nil { return CIDR.parse(name).map(Pattern.network) }
        guard isNormalizedName(name) else {
            return .failure(
                AddressProblem(message: "'\(text)' is not a host name, *.suffix wildcard, address or CIDR"))
        }
        return .success(.host(name))
    }

    /// Whether a route may name `host` (a name or a literal address, as in a ``SocketAddressSpec``).
    public func permits(host: String) -> Bool {
        if let address = IPAddress(host) {
            return patterns.contains {
                switch $0 {
                case .network(let cidr): return cidr.contains(address)
                case .host, .suffix: return false
                }
            }
        }
        let name = Self.normalized(Substring(host))
        guard !name.isEmpty else { return false }
        return patterns.contains {
            switch $0 {
            case .host(let allowed): return name == allowed
            case .suffix(let suffix): return name.hasSuffix("." + suffix)
            case .network: return false
            }
        }
    }

    public var description: String { patterns.map(\.description).joined(separator: ", ") }

    /// A host name as `permits` compares it: after its one trailing dot is dropped, none is left.
    private static func isNormalizedName(_ name: String) -> Bool {
        !name.isEmpty && !name.hasSuffix(".") && AddressSyntax.isHostName(Substring(name))
    }

    private static func normalized(_ name: Substring) -> String {
        var name = name.lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        return name
    }
}
