/// The real dialler: names through a `Resolver`, non-blocking sockets on the shard, TCP keepalive if given.
public struct SystemDialler: Dialler {
    public let resolver: Resolver
    public let keepalive: TCPKeepalive?

    /// Resolves through `resolver` (the process-wide one by default); outgoing sockets get `keepalive`.
    public init(resolver: Resolver = .shared, keepalive: TCPKeepalive? = nil) {
        self.resolver = resolver
        self.keepalive = keepalive
    }

    public func resolve(
        host: String, port: Int, on shard: EventShard,
        completion: @escaping @Sendable (Result<[SocketAddress], IOError>) -> Void
    ) {
        resolver.resolve(host: host, port: port, on: shard, completion: completion)
    }

    public func connect(to address: SocketAddress, on shard: EventShard) throws(IOError) -> any Connection {
        try Connector.connect(to: address, shard: shard, keepalive: keepalive)
    }
}
