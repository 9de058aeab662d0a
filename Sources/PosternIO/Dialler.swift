/// Resolves backend names and starts outgoing connections: the seam that lets sessions be tested with
/// fakes. Completions run on the given shard's queue.
public protocol Dialler: Sendable {
    /// Resolves `host` (a name or a numeric address) and `port`; `completion` runs on `shard.queue`.
    func resolve(
        host: String, port: Int, on shard: EventShard,
        completion: @escaping @Sendable (Result<[SocketAddress], IOError>) -> Void)
    /// Starts a non-blocking connect; the connection reports `connectionConnected` or a failure.
    /// Local resource errors (EMFILE, ENFILE, ENOBUFS, ENOMEM) throw with `kind == .localResource`.
    func connect(to address: SocketAddress, on shard: EventShard) throws(IOError) -> any Connection
}
