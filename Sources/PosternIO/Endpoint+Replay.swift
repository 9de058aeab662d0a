import PosternTLS

/// TLS that starts with bytes read before it, and the socket's own address.
extension Endpoint {
    public func startTLS(context: TLSContext, serverName: String?, received: [UInt8]) {
        guard !received.isEmpty else {
            startTLS(context: context, serverName: serverName)
            return
        }
        let engine: TLSEngine
        do {
            engine = try TLSEngine(context: context, serverName: serverName)
        } catch {
            let message = error.message
            shard.queue.async { self.fail(IOError(.tlsHandshake, message)) }
            return
        }
        received.withUnsafeBytes { engine.feed($0) }
        startTLS(engine)
    }

    /// The local address of the socket (where the peer connected to), if it has one.
    public var localAddress: SocketAddress? { SocketOps.localAddress(fd) }
}
