/// A parsed PROXY protocol header (HAProxy's v1 text line or v2 binary block): where the client
/// really connected from, and what the proxy in front of us knew about its TLS.
public struct ProxyHeader: Sendable, Equatable {
    /// Which format the header was written in.
    public enum Version: Sendable, Equatable {
        case v1, v2
    }

    /// What the header says about the connection's endpoints.
    public enum Addressing: Sendable, Equatable {
        /// v2 LOCAL: the proxy's own connection (a health check); use the socket's addresses.
        case local
        /// v1 UNKNOWN, or v2 PROXY with a family or transport we do not take (AF_UNSPEC, AF_UNIX,
        /// datagrams): the sender relays a client it cannot describe; use the socket's addresses.
        case unknown
        /// A relayed TCP connection: the client (`source`) and the address it connected to (`destination`).
        case tcp(source: ProxyEndpoint, destination: ProxyEndpoint)
    }

    public var version: Version
    public var addressing: Addressing
    /// The v2 TLVs in the order sent (empty for v1 and for v2 LOCAL).
    public var tlvs: [ProxyTLV]

    public init(version: Version, addressing: Addressing, tlvs: [ProxyTLV] = []) {
        self.version = version
        self.addressing = addressing
        self.tlvs = tlvs
    }

    /// The relayed client, when the header names one.
    public var source: ProxyEndpoint? {
        if case .tcp(let source, _) = addressing { return source }
        return nil
    }

    /// The address the client connected to, when the header names one.
    public var destination: ProxyEndpoint? {
        if case .tcp(_, let destination) = addressing { return destination }
        return nil
    }

    /// PP2_TYPE_AUTHORITY (the client's SNI name) when present as UTF-8 without control characters.
    public var authority: String? {
        tlvs.first { $0.type == ProxyTLV.authority }.flatMap { ProxyTLV.text($0.value) }
    }

    /// PP2_TYPE_UNIQUE_ID, the sender's connection id (opaque bytes, up to 128).
    public var uniqueID: [UInt8]? {
        tlvs.first { $0.type == ProxyTLV.uniqueID }?.value
    }

    /// The PP2_TYPE_SSL TLV, decoded; nil when absent or malformed.
    public var tls: ProxyTLSInfo? {
        tlvs.first { $0.type == ProxyTLV.ssl }.flatMap { ProxyTLSInfo(tlvValue: $0.value) }
    }
}
