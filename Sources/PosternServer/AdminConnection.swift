import PosternAdmin
import PosternIO

/// One admin HTTP request: read it with `AdminHTTPRequestParser` (head 8 KiB, body 64 KiB), answer it
/// (`Connection: close`), close. The whole exchange has `deadline` seconds; a request still incomplete
/// then gets 408, one whose answer is not ready gets 503. Confined to its shard's queue.
final class AdminConnection: ConnectionDelegate, ShardTickable, @unchecked Sendable {
    /// Seconds for the request and its answer.
    static let deadline: UInt64 = 10

    /// Where the exchange is.
    private enum Phase {
        case reading(AdminHTTPRequestParser)
        case answering(AdminHTTPMethod)
        case done
    }

    private let endpoint: Endpoint
    private let service: AdminService
    private let onEnd: () -> Void
    private let deadline = EventShard.now() + AdminConnection.deadline * 1_000_000_000
    private var phase = Phase.reading(AdminHTTPRequestParser())
    private var sentContinue = false
    /// The request's path, once it was read (for the debug line).
    private var path = "-"

    init(endpoint: Endpoint, service: AdminService, onEnd: @escaping () -> Void) {
        self.endpoint = endpoint
        self.service = service
        self.onEnd = onEnd
    }

    func start() {
        endpoint.maxQueuedBytes = 16 << 20
        endpoint.delegate = self
        endpoint.start()
        endpoint.shard.register(self)
    }

    func connection(_ endpoint: any Connection, received bytes: UnsafeRawBufferPointer) {
        guard case .reading(var parser) = phase else { return }
        let progress: AdminHTTPRequestParser.Progress
        do {
            progress = try parser.feed(bytes)
        } catch {
            respond(error.response, method: nil)
            return
        }
        switch progress {
        case .needMore:
            phase = .reading(parser)
        case .needBody(let expectsContinue):
            phase = .reading(parser)
            if expectsContinue && !sentContinue {
                sentContinue = true
                self.endpoint.write(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
            }
        case .complete(let request):
            path = request.path
            phase = .answering(request.method)
            endpoint.pauseReading()
            let shard = self.endpoint.shard
            service.answer(request, on: shard.queue) { response in
                shard.queue.async { self.respond(response, method: request.method) }
            }
        }
    }

    private func respond(_ response: AdminHTTPResponse, method: AdminHTTPMethod?) {
        if case .done = phase { return }
        phase = .done
        endpoint.write(response.serialized(for: method))
        service.server.logger.debug(
            "admin request",
            metadata: [
                "client": "\(endpoint.peerAddress?.description ?? "?")", "method": "\(method?.rawValue ?? "-")",
                "path": "\(path)", "status": "\(response.status.code)",
            ])
        finish()
    }

    private func finish() {
        endpoint.shard.unregister(self)
        endpoint.finish()
        onEnd()
    }

    func tick(now: UInt64) {
        guard now > deadline else { return }
        switch phase {
        case .reading:
            respond(.text(.requestTimeout, "request timed out\n"), method: nil)
        case .answering(let method):
            respond(.json(.serviceUnavailable, AdminJSON.encode(["error": "the answer timed out"])), method: method)
        case .done:
            break
        }
    }

    func connectionReachedEOF(_ endpoint: any Connection) {
        guard case .reading = phase else { return }
        phase = .done
        finish()
    }

    func connection(_ endpoint: any Connection, failed error: IOError) {
        if case .done = phase { return }
        phase = .done
        self.endpoint.shard.unregister(self)
        onEnd()
    }

    func connectionConnected(_ endpoint: any Connection) {}
    func connectionDrained(_ endpoint: any Connection) {}
    func connectionTLSEstablished(_ endpoint: any Connection) {}
}
