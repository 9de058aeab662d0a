import PosternProtocol

/// The PROXY protocol in front of the login dialogue (`proxy_protocol.accept_from`): a connection from a
/// listed network must start with a PROXY v1 or v2 header within `ProxyHeaderReader.timeout`; a connection
/// from anywhere else is refused. Refusals write nothing to the peer: it is closed, counted
/// (`postern_proxy_refused_total{reason}`) and logged (outcome `proxy-refused` with the reason as `detail`).
extension Session {
    func awaitProxyHeader() {
        guard let config = listener.proxyProtocol, let address = identity.address, config.acceptFrom.contains(address)
        else {
            refuseProxy(.untrusted, detail: "\(identity.logText) is not in proxy_protocol.accept_from")
            return
        }
        let deadline = context.clock.now() &+ .nanoseconds(ProxyHeaderReader.timeout)
        phase = .proxyHeader(ProxyHeaderReader(deadline: deadline))
    }

    func proxyReceived(_ bytes: [UInt8]) {
        guard case .proxyHeader(var reader) = phase else { return }
        switch reader.receive(bytes) {
        case .needMore:
            phase = .proxyHeader(reader)
        case .invalid(let error):
            refuseProxy(.invalid, detail: error.description)
        case .header(let header, let rest):
            identity.apply(header)
            // Nothing else is in the log yet: it starts again with the real client.
            log = SessionLog(id: id, client: identity.logText, listener: listener.name, proto: listener.proto.rawValue)
            phase = .preauth
            // The limits count the real client, known only now.
            guard admitConnection() else { return }
            beginDialogue(received: rest)
        }
    }

    func refuseProxy(_ reason: ProxyRefusal, detail: String) {
        context.stats.proxyRefused(listener: listener.name, reason: reason)
        end(.proxyRefused, detail: "\(reason.rawValue): \(detail)")
    }
}
