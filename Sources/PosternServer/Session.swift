import Logging
import PosternConfig
import PosternIO
import PosternProtocol

/// One client connection from accept to close: drives the protocol's front-end machine through the login
/// dialogue, routes the login through the map, lets a `BackendDialler` log in to the backend, then hands
/// both connections to a `Relay`. Keeps the login deadline and writes the closing log line. Confined to
/// its shard's queue; kept alive by the shard's registry.
final class Session: ShardTickable, @unchecked Sendable {
    let id: String
    let context: SessionContext
    let client: any Connection
    let startedAt: UInt64
    private let onEnd: (Session) -> Void
    /// No successful login after this (session clock): `login-timeout`.
    let loginDeadline: UInt64

    var frontEnd: any FrontEndMachine
    var phase: SessionPhase = .preauth {
        didSet { if case .preauth = phase { lastActivity = context.clock.now() } }
    }
    /// When the client last sent something or the session last came back to waiting for a command (session
    /// clock): a drain's login grace spares a pre-login client active since.
    var lastActivity: UInt64
    var log: SessionLog
    /// Who the client is (the PROXY header's client once one was read).
    var identity: ClientIdentity
    /// Why the client's reads are paused before the relay.
    var holds: ClientReadHolds = []
    /// Logins started on this connection; each attempt carries its number.
    var generation = 0
    /// Map answers that came for an attempt that was over (counted for tests and the debug log).
    var staleMapAnswers = 0
    /// The connection's place in the limits and the throttle's note of the login in flight.
    var guardState = SessionGuardState()

    /// `frontEnd` replaces the listener's machine (tests); `clientAddress` is what the log shows; `localAddress`
    /// is where the client connected to (forwarded to backends).
    init(
        id: String, client: any Connection, clientAddress: String, localAddress: SocketAddress? = nil,
        context: SessionContext, frontEnd: (any FrontEndMachine)? = nil, onEnd: @escaping (Session) -> Void
    ) {
        self.id = id
        self.context = context
        self.client = client
        self.onEnd = onEnd
        let now = context.clock.now()
        self.startedAt = now
        self.lastActivity = now
        self.loginDeadline = now &+ .nanoseconds(context.limits.loginTimeout)
        self.frontEnd =
            frontEnd
            ?? context.runtime.makeFrontEnd(for: context.listener, tlsActive: context.listener.tls == .implicit)
        self.log = SessionLog(
            id: id, client: clientAddress, listener: context.listener.name, proto: context.listener.proto.rawValue)
        self.identity = ClientIdentity(sessionID: id, peer: client.peerAddress, local: localAddress)
    }

    var shard: EventShard { context.shard }
    var runtime: Runtime { context.runtime }
    var listener: ListenerConfig { context.listener }
    var limits: Limits { context.limits }
    var logger: Logger { context.logger }

    /// How the session ended, once it did.
    var outcome: SessionOutcome? {
        if case .ended(let outcome) = phase { return outcome }
        return nil
    }

    /// True while the client's credentials are held anywhere in the session (they go when the backend answers).
    var holdsCredentials: Bool {
        switch phase {
        case .paused(let pause): return pause.holdsCredentials
        case .routing(let attempt): return attempt.holdsCredentials
        case .dialling(let dialler): return dialler.holdsCredentials
        default: return false
        }
    }

    func start() {
        client.maxQueuedBytes = limits.maxQueuedBytes
        client.delegate = self
        client.start()
        shard.register(self)
        context.stats.sessionStarted(context.listenerMetrics)
        if listener.proxyProtocol != nil {
            awaitProxyHeader()
        } else {
            guard admitConnection() else { return }
            beginDialogue()
        }
    }

    /// The greeting, or first the implicit-TLS handshake. `received`: the client's bytes that came already
    /// (after a PROXY header), for the handshake or the front end.
    func beginDialogue(received: [UInt8] = []) {
        if listener.tls == .implicit {
            guard let tls = runtime.serverTLS(for: listener.name) else {
                end(.tlsUnavailable)
                return
            }
            phase = .tlsAccept(since: context.clock.now())
            client.startTLS(context: tls, serverName: nil, received: received)
        } else {
            send(frontEnd.greeting())
            if !received.isEmpty { perform(frontEnd.receive(received)) }
        }
    }

    /// Ends the session because the server stops: `farewell(.shutdown)`.
    func shutdown() { farewell(.shutdown) }

    // MARK: Timers

    func tick(now: UInt64) {
        switch phase {
        case .ended:
            return
        case .relaying(let relay):
            relay.tick(now: now)
            return
        case .proxyHeader(let reader):
            if now > reader.deadline {
                refuseProxy(.timeout, detail: "no PROXY header within \(ProxyHeaderReader.timeout) s")
            }
            return
        default:
            break
        }
        if now > loginDeadline {
            send(frontEnd.timeoutMessage())
            end(.loginTimeout, graceful: true)
            return
        }
        if handshakeExpired(now: now) {
            end(.tlsHandshakeTimeout)
            return
        }
        switch phase {
        case .paused(let pause):
            pauseDue(generation: pause.generation, now: now)
        case .routing(let attempt):
            if now > attempt.startedAt &+ context.stepTimeout {
                finishLogin(
                    DialFailure(
                        outcome: .unavailable(reason: "User directory did not answer."), result: .unavailable,
                        reason: nil, label: nil))
            }
        case .dialling(let dialler):
            dialler.tick(now: now)
        default:
            break
        }
    }

    // MARK: Client output and reading

    /// Writes protocol text to the client, unless its TLS handshake runs (no text may go into it then).
    func send(_ bytes: [UInt8]) {
        guard !client.isHandshaking, !client.isClosed, !bytes.isEmpty else { return }
        client.write(bytes)
        updateOutputHold()
    }

    /// Before the relay, the client is not read while its output queue is at `buffer_size` or more.
    func updateOutputHold() {
        guard phase.isBeforeRelay, !phase.isEnded else { return }
        if client.pendingCount >= limits.bufferSize {
            hold(.output)
        } else if holds.contains(.output) {
            release(.output)
            if holds.contains(.yield) { scheduleResumeTurn() }
        }
    }

    func hold(_ reason: ClientReadHolds) {
        holds.insert(reason)
        client.pauseReading()
    }

    func release(_ reason: ClientReadHolds) {
        holds.remove(reason)
        if holds.isEmpty { client.resumeReading() }
    }

    // MARK: End

    func end(_ outcome: SessionOutcome, graceful: Bool = false, detail: String? = nil) {
        let previous = phase
        if previous.isEnded { return }
        phase = .ended(outcome)
        switch previous {
        case .routing:
            break
        case .dialling(let dialler):
            dialler.cancel()
            absorbBytes(of: dialler)
            log.backend = dialler.currentLabel ?? log.backend
        case .loggedIn(let backend):
            backend.connection.delegate = nil
            backend.connection.close()
            absorbBytes(of: backend.connection)
        case .relaying(let relay):
            relay.stop()
            absorbBytes(of: relay.backend)
        case .proxyHeader, .tlsAccept, .preauth, .starttls, .paused, .ended:
            break
        }
        releaseConnectionSlot()
        if graceful && !client.isHandshaking {
            client.finish()
        } else {
            client.close()
        }
        shard.unregister(self)
        context.stats.sessionEnded(outcome: outcome, bytesIn: client.bytesIn, bytesOut: client.bytesOut)
        logger.info(
            "session",
            metadata: log.fields(
                outcome: outcome, clientIn: client.bytesIn, clientOut: client.bytesOut,
                durationNanos: context.clock.now() &- startedAt, detail: detail
            ).metadata)
        onEnd(self)
    }

    func absorbBytes(of dialler: BackendDialler) {
        log.backendIn += dialler.abandonedBytesIn
        log.backendOut += dialler.abandonedBytesOut
    }

    func absorbBytes(of connection: any Connection) {
        log.backendIn += connection.bytesIn
        log.backendOut += connection.bytesOut
    }
}
