import Glibc
import PosternAdmin
import PosternConfig
import PosternIO

/// The operators' HTTP/1.1 API on `server.admin_listen` (endpoints in docs/operations.md): one request per
/// connection, each bounded in size and time, at most `maxConnections` at once (more get 503 and are
/// closed). Requests are answered by an `AdminService` on the accepting shard's queue.
final class AdminEndpoint: Sendable {
    /// Admin connections served at once.
    static let maxConnections = 64

    private let listener: Listener
    let limit = AdminConnectionLimit(limit: AdminEndpoint.maxConnections)

    init(spec: SocketAddressSpec, loop: EventLoop, server: Server) throws(IOError) {
        guard let address = try SocketAddress.resolve(host: spec.host, port: spec.port).first else {
            throw IOError("cannot resolve \(spec)")
        }
        let service = AdminService(server: server, loopback: AdminAccess.isLoopback(address))
        let refusal = AdminHTTPResponse.json(
            .serviceUnavailable, AdminJSON.encode(["error": "too many admin connections"])
        ).serialized(for: .get)
        let limit = self.limit
        listener = try Listener(
            address: address, loop: loop, onError: { _ in },
            onAccept: { fd, _, shard in
                guard limit.enter() else {
                    _ = refusal.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                    close(fd)
                    return
                }
                AdminConnection(endpoint: Endpoint(fd: fd, shard: shard), service: service) { limit.leave() }.start()
            })
    }

    func start() { listener.start() }

    /// Stops accepting and closes the socket (a reload moved or removed `server.admin_listen`).
    func stop() { listener.stop() }
}
