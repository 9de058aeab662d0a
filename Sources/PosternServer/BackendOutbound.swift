import PosternProtocol

/// What a `BackendDialler` tells every backend it tries about the client: the PROXY header written right
/// after connect (`backend.send_proxy`), and the client for IMAP `ID` / `XCLIENT` (`backend.forward_client`).
struct BackendOutbound {
    var proxyHeader: [UInt8]?
    var forwarded: ForwardedClient?

    init(proxyHeader: [UInt8]? = nil, forwarded: ForwardedClient? = nil) {
        self.proxyHeader = proxyHeader
        self.forwarded = forwarded
    }
}
