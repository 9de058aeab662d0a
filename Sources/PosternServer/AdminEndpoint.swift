import PosternConfig
import PosternIO

/// The operators' HTTP endpoint: `GET /health` (200 while accepting, 503 while stopping) and
/// `GET /metrics` (Prometheus text). Answers one request per connection.
final class AdminEndpoint: Sendable {
    private let listener: Listener

    init(spec: SocketAddressSpec, loop: EventLoop, server: Server) throws(IOError) {
        guard let address = try SocketAddress.resolve(host: spec.host, port: spec.port).first else {
            throw IOError("cannot resolve \(spec)")
        }
        listener = try Listener(
            address: address, loop: loop, onError: { _ in },
            onAccept: { [weak server] fd, _, shard in
                guard let server else { return }
                AdminConnection(endpoint: Endpoint(fd: fd, shard: shard), server: server).start()
            })
    }

    func start() { listener.start() }

    /// Stops accepting and closes the socket (a reload moved or removed `server.admin_listen`).
    func stop() { listener.stop() }
}

/// One admin HTTP request: read the head (at most 8 KiB, 10 s), answer, close.
final class AdminConnection: ConnectionDelegate, ShardTickable, @unchecked Sendable {
    private let endpoint: Endpoint
    private let server: Server
    private var request: [UInt8] = []
    private let deadline = EventShard.now() + 10_000_000_000
    private var done = false

    init(endpoint: Endpoint, server: Server) {
        self.endpoint = endpoint
        self.server = server
    }

    func start() {
        endpoint.delegate = self
        endpoint.start()
        endpoint.shard.register(self)
    }

    func connection(_ endpoint: any Connection, received bytes: UnsafeRawBufferPointer) {
        guard !done else { return }
        request.append(contentsOf: bytes)
        if request.count > 8192 {
            respond(status: "431 Request Header Fields Too Large", body: Array("request too large\n".utf8))
            return
        }
        guard let lineEnd = request.firstIndex(of: 10) else { return }
        let line = String(decoding: request[..<lineEnd], as: UTF8.self)
        let parts = line.split(separator: " ")
        guard parts.count >= 2, parts[0] == "GET" else {
            respond(status: "405 Method Not Allowed", body: Array("only GET\n".utf8))
            return
        }
        switch parts[1] {
        case "/health":
            if server.isHealthy {
                respond(status: "200 OK", body: Array("ok\n".utf8))
            } else {
                respond(status: "503 Service Unavailable", body: Array("stopping\n".utf8))
            }
        case "/metrics":
            respond(status: "200 OK", body: server.stats.render(), type: "text/plain; version=0.0.4")
        default:
            respond(status: "404 Not Found", body: Array("try /health or /metrics\n".utf8))
        }
    }

    private func respond(status: String, body: [UInt8], type: String = "text/plain") {
        done = true
        let head =
            "HTTP/1.0 \(status)\r\nContent-Type: \(type)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        endpoint.write(Array(head.utf8) + body)
        finish()
    }

    private func finish() {
        endpoint.shard.unregister(self)
        endpoint.finish()
    }

    func connectionReachedEOF(_ endpoint: any Connection) { if !done { done = true; finish() } }
    func connection(_ endpoint: any Connection, failed error: IOError) { self.endpoint.shard.unregister(self) }
    func connectionConnected(_ endpoint: any Connection) {}
    func connectionDrained(_ endpoint: any Connection) {}
    func connectionTLSEstablished(_ endpoint: any Connection) {}

    func tick(now: UInt64) {
        if now > deadline && !done {
            done = true
            finish()
        }
    }
}
