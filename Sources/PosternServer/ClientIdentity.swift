import PosternConfig
import PosternIO
import PosternProtocol
import PosternTLS

/// Who the client of a session is, as one value: its address and port (from the PROXY header of a trusted
/// load balancer, else the socket's), where it connected to, the load balancer, its TLS and SNI name, and
/// the session id. The map's `{client_ip}`, the log, forwarding to the backend, the limits and /sessions
/// all read it from here.
public struct ClientIdentity: Sendable, Equatable {
    public let sessionID: String
    /// The client's address and port; nil when the socket has no peer address.
    public private(set) var client: ProxyEndpoint?
    /// Where the client connected to: Postern's socket, or the PROXY header's destination.
    public private(set) var local: ProxyEndpoint?
    /// The load balancer whose PROXY header named the client; nil when the client connected directly (or the
    /// header was LOCAL or UNKNOWN, which keep the socket's addresses).
    public private(set) var proxy: ProxyEndpoint?
    /// The client's TLS: Postern's own handshake with it, else what the PROXY header reported.
    public private(set) var tls: ProxyTLSInfo?
    /// The SNI name the client asked for: Postern's handshake, else the header's PP2_TYPE_AUTHORITY.
    public private(set) var serverName: String?

    public init(sessionID: String, peer: SocketAddress?, local: SocketAddress?) {
        self.sessionID = sessionID
        self.client = peer.flatMap(Self.endpoint)
        self.local = local.flatMap(Self.endpoint)
    }

    /// The client's address for limits, throttling and trusted networks.
    public var address: IPAddress? { client.flatMap { IPAddress(bytes: $0.address) } }

    /// The client's address as text (`{client_ip}`, `x-originating-ip`, `XCLIENT ADDR`).
    public var host: String? { client?.addressText }

    /// `address:port` (IPv6 in brackets) for the log; `unknown` without a peer address.
    public var logText: String { client?.description ?? "unknown" }

    /// Takes what a PROXY header says: a TCP client replaces the socket's addresses (and the sender becomes
    /// `proxy`); LOCAL and UNKNOWN keep them. TLS facts of the header are kept until Postern's own handshake.
    mutating func apply(_ header: ProxyHeader) {
        if case .tcp(let source, let destination) = header.addressing {
            proxy = client
            client = Self.unmapped(source)
            local = Self.unmapped(destination)
        }
        if let info = header.tls, info.client.contains(.ssl) { tls = info }
        if let authority = header.authority { serverName = authority }
    }

    /// Postern's own TLS handshake with the client finished.
    mutating func tlsEstablished(_ info: TLSSessionInfo) {
        var flags: ProxyTLSInfo.ClientFlags = .ssl
        if info.peerSubject != nil { flags.insert(.certificateOnConnection) }
        // A certificate the server context accepted was verified (it verifies when it asks for one).
        tls = ProxyTLSInfo(
            client: flags, verify: info.peerSubject != nil ? 0 : 1, version: info.version, cipher: info.cipher)
        if let name = info.serverName { serverName = name }
    }

    static func endpoint(_ address: SocketAddress) -> ProxyEndpoint? {
        guard let port = UInt16(exactly: address.port), let endpoint = ProxyEndpoint(text: address.host, port: port)
        else { return nil }
        return unmapped(endpoint)
    }

    /// An IPv4-mapped IPv6 address (a dual-stack socket's IPv4 client) as the IPv4 address.
    static func unmapped(_ endpoint: ProxyEndpoint) -> ProxyEndpoint {
        let bytes = endpoint.address
        guard bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff else {
            return endpoint
        }
        return ProxyEndpoint(address: bytes[12...], port: endpoint.port) ?? endpoint
    }
}
