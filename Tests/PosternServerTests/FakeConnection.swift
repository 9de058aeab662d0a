import PosternIO
import PosternTLS

/// A connection without a socket: records what the session does to it and lets the test deliver bytes,
/// EOF, failures, drains, TLS completion and connects. Output leaves at once unless `holdsOutput`, when it
/// stays pending until `drain()` and a queue over `maxQueuedBytes` fails with `.outputOverflow` (as the real
/// endpoint does). Used on the shard's queue only.
final class FakeConnection: Connection {
    weak var delegate: (any ConnectionDelegate)?
    var bytesIn: UInt64 = 0
    var bytesOut: UInt64 = 0
    var pendingCount = 0
    var isHandshaking = false
    var tlsInfo: TLSSessionInfo?
    private(set) var isClosed = false
    var maxQueuedBytes = 1 << 20
    let peerAddress: SocketAddress?

    /// Output stays queued until `drain()`.
    var holdsOutput = false
    private(set) var written: [UInt8] = []
    /// Writes made while a TLS handshake ran (must stay 0).
    private(set) var writesWhileHandshaking = 0
    private(set) var started = false
    /// The server names of each `startTLS` call.
    private(set) var tlsStarts: [String?] = []
    /// The bytes handed to each `startTLS` call as already received (empty for the plain call).
    private(set) var tlsReplays: [[UInt8]] = []
    private(set) var isReadingPaused = false
    private(set) var pauseCount = 0
    private(set) var halfClosed = false
    /// `finish()` was called (graceful close).
    private(set) var finished = false
    private(set) var closeCount = 0

    init(peer: SocketAddress? = nil) {
        self.peerAddress = peer
    }

    var text: String { String(decoding: written, as: UTF8.self) }

    func start() { started = true }

    func startTLS(context: TLSContext, serverName: String?) {
        startTLS(context: context, serverName: serverName, received: [])
    }

    func startTLS(context: TLSContext, serverName: String?, received: [UInt8]) {
        isHandshaking = true
        tlsStarts.append(serverName)
        tlsReplays.append(received)
    }

    func write(_ bytes: UnsafeRawBufferPointer) {
        guard !isClosed, !finished, bytes.count > 0 else { return }
        if isHandshaking { writesWhileHandshaking += 1 }
        written += bytes
        bytesOut += UInt64(bytes.count)
        guard holdsOutput else { return }
        pendingCount += bytes.count
        if pendingCount > maxQueuedBytes { fail(IOError(.outputOverflow, "more than \(maxQueuedBytes) bytes queued")) }
    }

    func pauseReading() {
        if !isReadingPaused { pauseCount += 1 }
        isReadingPaused = true
    }

    func resumeReading() { isReadingPaused = false }
    func shutdownWrite() { halfClosed = true }

    func finish() {
        finished = true
        delegate = nil
    }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        closeCount += 1
        delegate = nil
    }

    func setAbortiveClose() {}

    /// True once `finish` or `close` was called.
    var isDone: Bool { finished || isClosed }

    // MARK: Driven by the test

    func receive(_ text: String) { receive(Array(text.utf8)) }

    func receive(_ bytes: [UInt8]) {
        guard !isClosed else { return }
        bytesIn += UInt64(bytes.count)
        bytes.withUnsafeBytes { delegate?.connection(self, received: $0) }
    }

    func receiveEOF() { delegate?.connectionReachedEOF(self) }

    func fail(_ error: IOError) {
        guard !isClosed else { return }
        let delegate = self.delegate
        close()
        delegate?.connection(self, failed: error)
    }

    func drain() {
        pendingCount = 0
        delegate?.connectionDrained(self)
    }

    func establishTLS() {
        isHandshaking = false
        delegate?.connectionTLSEstablished(self)
    }

    func connect() { delegate?.connectionConnected(self) }
}
