import PosternTLS

/// What a connection reports to its owner (a session), always on the connection's shard queue.
public protocol ConnectionDelegate: AnyObject {
    /// An outgoing connection was established.
    func connectionConnected(_ connection: any Connection)
    /// Bytes arrived (plaintext, after TLS). The buffer is only valid during the call.
    func connection(_ connection: any Connection, received bytes: UnsafeRawBufferPointer)
    /// The peer finished sending (EOF or TLS close_notify).
    func connectionReachedEOF(_ connection: any Connection)
    /// The connection failed (reset, hang-up, TLS error, output cap); it is closed already.
    func connection(_ connection: any Connection, failed error: IOError)
    /// Everything queued was written.
    func connectionDrained(_ connection: any Connection)
    /// The TLS handshake finished.
    func connectionTLSEstablished(_ connection: any Connection)
}

/// The session's view of one socket: the seam between session logic and the event loop, so sessions can
/// be driven by fakes in unit tests. `Endpoint` is the real one. Confined to one shard's queue.
public protocol Connection: AnyObject {
    var delegate: (any ConnectionDelegate)? { get set }
    /// Bytes received and sent on the socket (ciphertext when TLS is on).
    var bytesIn: UInt64 { get }
    var bytesOut: UInt64 { get }
    /// Bytes queued for the socket and not yet written (TLS records included).
    var pendingCount: Int { get }
    /// True from `startTLS` until the handshake finished (or failed): no protocol text may be written then.
    var isHandshaking: Bool { get }
    /// The negotiated TLS parameters, once the handshake finished.
    var tlsInfo: TLSSessionInfo? { get }
    /// True once the connection is closed (by either side, or by `close`).
    var isClosed: Bool { get }
    /// The hard cap on queued output (TLS records OpenSSL makes by itself included); a write that would
    /// go over it fails the connection with `IOError.Kind.outputOverflow`.
    var maxQueuedBytes: Int { get set }
    /// The remote address, if connected.
    var peerAddress: SocketAddress? { get }

    /// Starts delivering events.
    func start()
    /// Puts TLS between the socket and the owner, with an engine made from `context` (a client-role context
    /// sends its hello now; `serverName` is its SNI and verified name). Failures arrive as `failed`.
    func startTLS(context: TLSContext, serverName: String?)
    /// As `startTLS(context:serverName:)`, with the first bytes of the peer's TLS stream that were read
    /// already as plaintext (they followed a PROXY header in the same read); they are fed to the engine first.
    func startTLS(context: TLSContext, serverName: String?, received: [UInt8])
    /// Queues bytes (plaintext) and writes what the socket takes.
    func write(_ bytes: UnsafeRawBufferPointer)
    func write(_ bytes: [UInt8])
    /// Stops delivering bytes (backpressure); takes effect at the next read event.
    func pauseReading()
    func resumeReading()
    var isReadingPaused: Bool { get }
    /// Half-closes once the queue is written (TLS close_notify first).
    func shutdownWrite()
    /// Closes gracefully: writes what is queued, half-closes, lingers briefly.
    func finish()
    /// Closes now.
    func close()
    /// Makes the next close send a reset instead of a FIN.
    func setAbortiveClose()
}

extension Connection {
    public func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { write($0) }
    }
}
