/// Starts outgoing connections and resolves names, for callers that do not hold a `Dialler`.
public enum Connector {
    /// Resolves `host` through the shared `Resolver` (numeric addresses without a lookup, names cached);
    /// `completion` runs on `shard.queue`.
    public static func resolve(
        host: String, port: Int, shard: EventShard,
        completion: @escaping @Sendable (Result<[SocketAddress], IOError>) -> Void
    ) {
        Resolver.shared.resolve(host: host, port: port, on: shard, completion: completion)
    }

    /// Starts a non-blocking connect; the endpoint reports `connectionConnected` or a failure once started.
    /// EMFILE, ENFILE, ENOBUFS and ENOMEM (and running out of local ports) throw `.localResource`.
    public static func connect(
        to address: SocketAddress, shard: EventShard, keepalive: TCPKeepalive? = nil
    ) throws(IOError) -> Endpoint {
        let fd = try SocketOps.startConnect(to: address, keepalive: keepalive)
        return Endpoint(fd: fd, shard: shard, connecting: true)
    }
}
