import PosternConfig
import PosternProtocol

/// What a session tells its backends about the client: the PROXY header (`backend.send_proxy`) and the
/// values for IMAP `ID` or `XCLIENT` (`backend.forward_client`).
extension ClientIdentity {
    /// The PROXY header to write first on every backend connection of a login, or nil for `send_proxy: none`.
    /// Without a known client address the header says UNKNOWN (v1) or carries no addresses (v2). A TLV value
    /// with a control character is left out (the encoder would refuse it).
    func proxyHeader(_ mode: SendProxyMode) -> [UInt8]? {
        let addressing: ProxyHeader.Addressing
        if let client, let local {
            addressing = .tcp(source: client, destination: local)
        } else {
            addressing = .unknown
        }
        switch mode {
        case .none:
            return nil
        case .v1:
            return ProxyHeaderEncoder.v1(addressing)
        case .v2:
            let safe: (String?) -> String? = { $0.flatMap { ForwardedClient.isSafe($0) ? $0 : nil } }
            let info = tls.map {
                ProxyTLSInfo(client: $0.client, verify: $0.verify, version: safe($0.version), cipher: safe($0.cipher))
            }
            let uniqueID = sessionID.utf8.count <= ProxyHeaderEncoder.maxUniqueIDBytes ? safe(sessionID) : nil
            return try? ProxyHeaderEncoder.v2(
                addressing, tls: info, authority: safe(serverName), uniqueID: uniqueID)
        }
    }

    /// The client for `ID` / `XCLIENT`, with the TTL this hop sends; nil without a client address.
    func forwarded(ttl: Int, clientID: [IDParameter]) -> ForwardedClient? {
        guard let client else { return nil }
        return ForwardedClient(
            address: client.addressText, port: Int(client.port), localAddress: local?.addressText,
            localPort: local.map { Int($0.port) }, sessionID: sessionID, ttl: ttl, clientID: clientID)
    }
}
