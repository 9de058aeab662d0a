import Logging
import PosternConfig
import PosternIO
import PosternMap
import PosternProtocol
import PosternTLS

/// One client connection from accept to close: drives the protocol's front-end machine, routes the
/// login through the map, logs in to the backend with the back-end machine, then splices the two
/// endpoints with backpressure. Confined to its shard's queue; kept alive by the shard's registry.
final class Session: ConnectionDelegate, ShardTickable, @unchecked Sendable {
    enum Phase: String {
        case tlsAccept, preauth, starttls, routing, connecting, backendLogin, relaying, ended
    }

    let id: String
    let shard: EventShard
    let runtime: Runtime
    let listener: ListenerConfig
    let stats: Stats
    let logger: Logger
    let client: Endpoint
    let clientAddress: String
    let startedAt: UInt64
    private let onEnd: (Session) -> Void

    private var backend: Endpoint?
    private var frontEnd: any FrontEndMachine
    private var backEndLogin: (any BackEndLoginMachine)?
    private var phase: Phase = .preauth
    private var clientTLSInfo: TLSSessionInfo?
    private var backendTLSInfo: TLSSessionInfo?

    // Login in progress. The credentials live only until the backend answers.
    private var loginRequest: LoginRequest?
    private var candidates: [BackendAddress] = []
    private var addresses: [SocketAddress] = []
    private var backendHost = ""
    private var backendPort = 0
    private var backendPolicy: BackendPolicy?
    private var backendMode: BackendTLSMode = .none
    private var backendDeadline: UInt64 = 0
    private var lastFailure = ""
    /// The backend being connected to, until it answers or fails (for the circuit breaker).
    private var tryingBackend: String?
    /// The login name towards the backend, when the map replaced the client's.
    private var backendUser: String?

    private var user: String?
    private var backendLabel: String?
    private var routeReason: String?
    private var loginDeadline: UInt64
    private var lastActivity: UInt64
    private var clientEOF = false
    private var backendBytesIn: UInt64 = 0
    private var backendBytesOut: UInt64 = 0

    init(
        id: String, fd: Int32, peer: SocketAddress?, shard: EventShard, runtime: Runtime, listener: ListenerConfig,
        stats: Stats, logger: Logger, onEnd: @escaping (Session) -> Void
    ) {
        self.id = id
        self.shard = shard
        self.runtime = runtime
        self.listener = listener
        self.stats = stats
        self.logger = logger
        self.onEnd = onEnd
        self.client = Endpoint(fd: fd, shard: shard)
        self.clientAddress = peer?.description ?? "unknown"
        let now = EventShard.now()
        self.startedAt = now
        self.lastActivity = now
        self.loginDeadline = now + Session.nanos(runtime.config.limits.loginTimeout)
        self.frontEnd = runtime.makeFrontEnd(for: listener, tlsActive: listener.tls == .implicit)
    }

    static func nanos(_ seconds: Double) -> UInt64 { UInt64(max(0, seconds) * 1_000_000_000) }

    private var limits: Limits { runtime.config.limits }

    func start() {
        client.delegate = self
        client.start()
        shard.register(self)
        stats.sessionStarted(listener: listener.name)
        if listener.tls == .implicit {
            guard let context = runtime.serverTLS(for: listener.name), let engine = try? TLSEngine(context: context)
            else {
                end(outcome: "tls-unavailable")
                return
            }
            phase = .tlsAccept
            client.startTLS(engine)
        } else {
            client.write(frontEnd.greeting())
        }
    }

    /// Ends the session because the server stops: a pre-login client is told why.
    func shutdown() {
        guard phase != .ended else { return }
        if phase != .relaying { client.write(frontEnd.shutdownMessage()) }
        end(outcome: "shutdown", graceful: true)
    }

    // MARK: Front end

    private func perform(_ actions: [FrontEndAction]) {
        for action in actions {
            guard phase != .ended else { return }
            switch action {
            case .send(let bytes):
                client.write(bytes)
            case .startTLS:
                guard let context = runtime.serverTLS(for: listener.name),
                    let engine = try? TLSEngine(context: context)
                else {
                    end(outcome: "tls-unavailable")
                    return
                }
                phase = .starttls
                client.startTLS(engine)
            case .login(let request):
                beginLogin(request)
            case .relay(let pipelined):
                beginRelay(pipelined: pipelined)
            case .close:
                end(outcome: outcomeForClose(), graceful: true)
            case .yield:
                break
            }
        }
    }

    private func outcomeForClose() -> String {
        user == nil ? "closed-before-login" : "login-failed"
    }

    // MARK: Login

    private func beginLogin(_ request: LoginRequest) {
        phase = .routing
        loginRequest = request
        user = request.credentials.routingKey
        // Hold further client input in the kernel while the login runs: it is bounded there.
        client.pauseReading()
        backendDeadline = EventShard.now() + Session.nanos(limits.connectTimeout)
        let map = runtime.map
        let key = request.credentials.routingKey
        let clientIP = client.peerAddress?.host
        Task {
            let result: Result<Route?, any Error>
            do {
                result = .success(try await map.lookup(MapQuery(user: key, clientIP: clientIP)))
            } catch {
                result = .failure(error)
            }
            self.shard.queue.async { self.routed(result) }
        }
    }

    private func routed(_ result: Result<Route?, any Error>) {
        guard phase == .routing else { return }
        switch result {
        case .failure(let error):
            logger.warning(
                "map lookup failed", metadata: ["session": "\(id)", "user": "\(user ?? "")", "error": "\(error)"])
            finishLogin(.unavailable(reason: "User directory unavailable."), result: "unavailable")
        case .success(nil):
            logger.info("unknown user", metadata: ["session": "\(id)", "user": "\(user ?? "")"])
            finishLogin(.unknownUser, result: "unknown-user")
        case .success(let route?):
            routeReason = route.reason
            backendUser = route.backendUser
            candidates = route.servers
            nextCandidate()
        }
    }

    /// Tries the next server of the route, or gives up.
    private func nextCandidate() {
        if let failed = tryingBackend {
            tryingBackend = nil
            runtime.recordConnectFailure(failed, session: id, logger: logger)
        }
        runtime.skipOpenBackends(&candidates, defaultPort: listener.backend.port, session: id, logger: logger)
        guard !candidates.isEmpty else {
            finishLogin(
                .unavailable(reason: "Backend server unavailable, try again later."), result: "unavailable",
                reason: lastFailure)
            return
        }
        let server = candidates.removeFirst()
        backendHost = server.host
        backendPort = server.port ?? listener.backend.port
        backendLabel = BackendAddress(host: backendHost, port: backendPort).description
        let policy = runtime.tls.backend(host: backendHost, port: backendPort)
        backendPolicy = policy
        backendMode = policy.mode ?? listener.backend.tls
        tryingBackend = backendLabel
        phase = .connecting
        backendDeadline = EventShard.now() + Session.nanos(limits.connectTimeout)
        Connector.resolve(host: backendHost, port: backendPort, shard: shard) { result in
            self.resolved(result)
        }
    }

    private func resolved(_ result: Result<[SocketAddress], IOError>) {
        guard phase == .connecting else { return }
        switch result {
        case .failure(let error):
            lastFailure = error.message
            nextCandidate()
        case .success(let list):
            addresses = list
            nextAddress()
        }
    }

    private func nextAddress() {
        guard !addresses.isEmpty else {
            nextCandidate()
            return
        }
        let address = addresses.removeFirst()
        do {
            let endpoint = try Connector.connect(to: address, shard: shard)
            endpoint.delegate = self
            backend = endpoint
            endpoint.start()
        } catch {
            lastFailure = error.message
            nextAddress()
        }
    }

    private func backendFailed(_ reason: String) {
        lastFailure = reason
        closeBackend()
        switch phase {
        case .connecting:
            nextAddress()
        case .backendLogin:
            finishLogin(
                .unavailable(reason: "Backend server unavailable, try again later."), result: "unavailable",
                reason: reason)
        default:
            break
        }
    }

    private func accountBackendBytes() {
        if let backend {
            backendBytesIn += backend.bytesIn
            backendBytesOut += backend.bytesOut
        }
    }

    func connectionConnected(_ endpoint: any Connection) {
        guard endpoint === backend, phase == .connecting, let request = loginRequest else { return }
        phase = .backendLogin
        if let label = tryingBackend { runtime.recordConnectSuccess(label) }
        tryingBackend = nil
        var credentials = request.credentials
        // The map may name the backend login (a `user@host` value, an LDAP attribute, a rewritten name).
        if let backendUser, backendUser != credentials.routingKey {
            if let authzid = credentials.authzid, !authzid.isEmpty {
                credentials.authzid = backendUser
            } else {
                credentials.user = backendUser
            }
        }
        backEndLogin = runtime.makeBackEndLogin(
            for: listener, credentials: credentials, mode: backendMode,
            policy: backendPolicy ?? runtime.tls.defaultBackend)
        if backendMode == .implicit {
            startBackendTLS()
        }
    }

    private func startBackendTLS() {
        guard let backend else { return }
        do {
            let policy = backendPolicy ?? runtime.tls.defaultBackend
            let engine = try TLSEngine(context: policy.context, serverName: policy.serverName ?? backendHost)
            backend.startTLS(engine)
        } catch {
            backendFailed("backend TLS: \(error.message)")
        }
    }

    private func performBackEnd(_ actions: [BackEndAction]) {
        for action in actions {
            guard phase == .backendLogin, let backend else { return }
            switch action {
            case .send(let bytes):
                backend.write(bytes)
            case .startTLS:
                startBackendTLS()
            case .succeeded(let text, let leftover):
                backendTLSInfo = backend.tls?.sessionInfo
                finishLogin(.success(text: text), result: "ok")
                if !leftover.isEmpty && phase == .relaying { client.write(leftover) }
            case .notice(let text):
                logger.warning(
                    "backend login",
                    metadata: ["session": "\(id)", "backend": "\(backendLabel ?? "")", "notice": "\(text)"])
            case .failed(let outcome):
                if case .unavailable(let reason) = outcome {
                    logger.warning(
                        "backend login failed",
                        metadata: ["session": "\(id)", "backend": "\(backendLabel ?? "")", "error": "\(reason)"])
                }
                closeBackend()
                finishLogin(outcome, result: outcomeLabel(outcome))
            }
        }
    }

    private func outcomeLabel(_ outcome: LoginOutcome) -> String {
        switch outcome {
        case .success: return "ok"
        case .rejected: return "rejected"
        case .unavailable: return "unavailable"
        case .unknownUser: return "unknown-user"
        }
    }

    private func closeBackend() {
        accountBackendBytes()
        backend?.close()
        backend = nil
        backEndLogin = nil
    }

    private func finishLogin(_ outcome: LoginOutcome, result: String, reason: String? = nil) {
        stats.login(result: result)
        if let reason, !reason.isEmpty {
            logger.warning(
                "backend unavailable",
                metadata: [
                    "session": "\(id)", "user": "\(user ?? "")", "backend": "\(backendLabel ?? "")",
                    "error": "\(reason)",
                ])
        }
        loginRequest = nil
        candidates = []
        addresses = []
        tryingBackend = nil
        if case .success = outcome {
        } else {
            closeBackend()
            phase = .preauth
            client.resumeReading()
        }
        perform(frontEnd.loginFinished(outcome))
    }

    private func beginRelay(pipelined: [UInt8]) {
        guard let backend else { return }
        phase = .relaying
        lastActivity = EventShard.now()
        logger.debug(
            "logged in", metadata: ["session": "\(id)", "user": "\(user ?? "")", "backend": "\(backendLabel ?? "")"])
        if !pipelined.isEmpty { backend.write(pipelined) }
        client.resumeReading()
    }

    // MARK: Endpoint events

    func connection(_ endpoint: any Connection, received bytes: UnsafeRawBufferPointer) {
        if endpoint === client {
            switch phase {
            case .relaying:
                guard let backend else { return }
                lastActivity = EventShard.now()
                backend.write(bytes)
                if backend.pendingCount >= limits.bufferSize { client.pauseReading() }
            case .preauth, .routing, .connecting, .backendLogin:
                perform(frontEnd.receive(Array(bytes)))
            case .tlsAccept, .starttls, .ended:
                break
            }
        } else if endpoint === backend {
            switch phase {
            case .relaying:
                lastActivity = EventShard.now()
                client.write(bytes)
                if client.pendingCount >= limits.bufferSize { endpoint.pauseReading() }
            case .backendLogin:
                guard var machine = backEndLogin else { return }
                let actions = machine.receive(Array(bytes))
                backEndLogin = machine
                performBackEnd(actions)
            default:
                break
            }
        }
    }

    func connectionDrained(_ endpoint: any Connection) {
        if endpoint === client {
            backend?.resumeReading()
        } else if endpoint === backend, phase == .relaying {
            client.resumeReading()
        }
    }

    func connectionTLSEstablished(_ endpoint: any Connection) {
        if endpoint === client {
            clientTLSInfo = client.tls?.sessionInfo
            switch phase {
            case .tlsAccept:
                phase = .preauth
                client.write(frontEnd.greeting())
            case .starttls:
                phase = .preauth
                perform(frontEnd.tlsEstablished())
            default:
                break
            }
        } else if endpoint === backend, phase == .backendLogin {
            guard var machine = backEndLogin else { return }
            let actions = backendMode == .implicit ? [] : machine.tlsEstablished()
            backEndLogin = machine
            performBackEnd(actions)
        }
    }

    func connectionReachedEOF(_ endpoint: any Connection) {
        if endpoint === client {
            clientEOF = true
            if phase == .relaying, let backend {
                backend.shutdownWrite()
            } else {
                end(outcome: user == nil ? "client-closed-before-login" : "client-closed-during-login")
            }
        } else if endpoint === backend {
            if phase == .relaying {
                // The backend is done: deliver what is queued to the client, then close.
                end(outcome: "backend-closed", graceful: true)
            } else {
                backendFailed("backend closed the connection")
            }
        }
    }

    func connection(_ endpoint: any Connection, failed error: IOError) {
        if endpoint === client {
            end(outcome: phase == .relaying ? "client-reset" : "client-error", detail: error.message)
        } else if endpoint === backend {
            if phase == .relaying {
                end(outcome: "backend-error", detail: error.message)
            } else {
                backendFailed(error.message)
            }
        }
    }

    // MARK: Timers

    func tick(now: UInt64) {
        switch phase {
        case .relaying:
            if now > lastActivity + Session.nanos(limits.idleTimeout) { end(outcome: "idle-timeout") }
        case .ended:
            break
        default:
            if now > loginDeadline {
                client.write(frontEnd.timeoutMessage())
                end(outcome: "login-timeout", graceful: true)
            } else if [.connecting, .backendLogin, .routing].contains(phase) && now > backendDeadline {
                if phase == .routing {
                    finishLogin(.unavailable(reason: "User directory did not answer."), result: "unavailable")
                } else {
                    backendFailed("timed out after \(limits.connectTimeout) s")
                }
            }
        }
    }

    // MARK: End

    private func end(outcome: String, graceful: Bool = false, detail: String? = nil) {
        guard phase != .ended else { return }
        phase = .ended
        loginRequest = nil
        closeBackend()
        if graceful { client.finish() } else { client.close() }
        shard.unregister(self)
        stats.sessionEnded(
            listener: listener.name, outcome: outcome, bytesIn: client.bytesIn, bytesOut: client.bytesOut)
        var metadata: Logger.Metadata = [
            "session": "\(id)",
            "client": "\(clientAddress)",
            "listener": "\(listener.name)",
            "user": "\(user ?? "-")",
            "backend": "\(backendLabel ?? "-")",
            "client_tls": "\(clientTLSInfo.map { "\($0.version)/\($0.cipher)" } ?? "none")",
            "backend_tls": "\(backendTLSInfo.map { "\($0.version)/\($0.cipher)" } ?? "none")",
            "client_in": "\(client.bytesIn)",
            "client_out": "\(client.bytesOut)",
            "backend_in": "\(backendBytesIn)",
            "backend_out": "\(backendBytesOut)",
            "duration_ms": "\((EventShard.now() - startedAt) / 1_000_000)",
            "outcome": "\(outcome)",
        ]
        metadata.merge(Session.clientTLSFields(clientTLSInfo)) { $1 }
        if let detail { metadata["detail"] = "\(detail)" }
        if let routeReason { metadata["route"] = "\(routeReason)" }
        logger.info("session", metadata: metadata)
        onEnd(self)
    }
}
