import PosternMap
import PosternProtocol

/// Routing a login through the map, the dialler's answer, and the start of the relay.
extension Session: BackendDiallerDelegate, RelayOwner {
    func beginLogin(_ request: LoginRequest) {
        if refusedBeforeRouting(request) { return }
        generation += 1
        log.user = request.credentials.routingKey
        log.mechanism = request.mechanism.rawValue
        // Further client input waits in the kernel while the login runs: it is bounded there.
        hold(.login)
        admitLogin(request)
    }

    /// Asks the map where the attempt's user lives.
    func route(_ request: LoginRequest) {
        let attempt = LoginAttempt(generation: generation, request: request, startedAt: context.clock.now())
        phase = .routing(attempt)
        let map = runtime.map
        let query = MapQuery(user: attempt.routingKey, clientIP: identity.host)
        let shard = self.shard
        let asked = attempt.generation
        // A file or regex map, or a fresh cache entry, answers at once: on this turn of the shard, after this
        // event, with no hop to another thread. Only a directory (or a miss in front of one) needs the Task.
        do {
            if case .answered(let route) = try map.immediateLookup(query) {
                shard.soon { self.routed(.success(route), generation: asked) }
                return
            }
        } catch {
            shard.soon { self.routed(.failure(error), generation: asked) }
            return
        }
        Task {
            let result: Result<Route?, any Error>
            do {
                result = .success(try await map.lookup(query))
            } catch {
                result = .failure(error)
            }
            shard.queue.async { self.routed(result, generation: asked) }
        }
    }

    /// The map answered; an answer for an older attempt (or after the deadline) is dropped.
    func routed(_ result: Result<Route?, any Error>, generation asked: Int) {
        guard case .routing(var attempt) = phase, attempt.generation == asked else {
            staleMapAnswers += 1
            logger.debug("stale map answer dropped", metadata: ["session": "\(id)", "attempt": "\(asked)"])
            return
        }
        switch result {
        case .failure(let error as RouteRefused):
            routeRefused(error, attempt: attempt)
        case .failure(let error):
            logger.warning(
                "map lookup failed",
                metadata: ["session": "\(id)", "user": "\(attempt.routingKey)", "error": "\(error)"])
            finishLogin(
                DialFailure(
                    outcome: .unavailable(reason: "User directory unavailable."), result: .unavailable, reason: nil,
                    label: nil))
        case .success(nil):
            answerWithoutBackend(
                DialFailure(outcome: .unknownUser, result: .unknownUser, reason: nil, label: nil), attempt: attempt)
        case .success(let route?):
            log.route = route.reason
            attempt.routed(route)
            log.backendUser = attempt.backendUser ?? attempt.routingKey
            let dialler = BackendDialler(attempt: attempt, context: context, sessionID: id)
            dialler.delegate = self
            dialler.outbound = outbound()
            phase = .dialling(dialler)
            dialler.start()
        }
    }

    /// The attempt ended without a backend: the client hears why and may try again.
    func finishLogin(_ failure: DialFailure) {
        context.stats.login(result: failure.result)
        if let label = failure.label { log.backend = label }
        if let attempt = currentAttempt { loginFailed(failure, attempt: attempt) }
        if let reason = failure.reason, !reason.isEmpty {
            logger.warning(
                "backend unavailable",
                metadata: [
                    "session": "\(id)", "user": "\(log.user ?? "")", "backend": "\(log.backend ?? "")",
                    "error": "\(reason)",
                ])
        }
        if case .dialling(let dialler) = phase { absorbBytes(of: dialler) }
        phase = .preauth
        release(.login)
        perform(frontEnd.loginFinished(failure.outcome))
    }

    func dialler(_ dialler: BackendDialler, failed failure: DialFailure) {
        guard case .dialling(let current) = phase, current === dialler else { return }
        backendFailed(failure, routedAt: dialler.attempt.startedAt)
        finishLogin(failure)
    }

    func dialler(_ dialler: BackendDialler, loggedIn backend: LoggedInBackend) {
        guard case .dialling(let current) = phase, current === dialler else {
            backend.connection.close()
            return
        }
        recordLoginSuccess()
        if let refused = admitSession(user: dialler.attempt.routingKey, label: backend.label) {
            backend.connection.delegate = nil
            backend.connection.close()
            absorbBytes(of: backend.connection)
            finishLogin(refused)
            return
        }
        context.stats.login(result: .ok)
        absorbBytes(of: dialler)
        log.backend = backend.label
        log.backendTLS = backend.tlsInfo
        loginSucceeded(backend, attempt: dialler.attempt)
        phase = .loggedIn(backend)
        perform(frontEnd.loginFinished(.success(text: backend.text)))
    }

    /// The front end sent its final response: splice.
    func beginRelay(pipelined: [UInt8]) {
        guard case .loggedIn(let backend) = phase else { return }
        logger.debug("logged in", metadata: ["session": "\(id)", "backend": "\(backend.label)"])
        let relay = Relay(client: client, backend: backend.connection, context: context)
        relay.owner = self
        holds = []
        phase = .relaying(relay)
        // Nothing asks the login machine anything from here on: its buffers and options go.
        frontEnd = SplicedFrontEnd()
        relay.start(pipelined: pipelined, leftover: backend.leftover)
    }

    func relayEnded(_ outcome: SessionOutcome, graceful: Bool, detail: String?) {
        end(outcome, graceful: graceful, detail: detail)
    }
}
