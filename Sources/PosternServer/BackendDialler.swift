import Logging
import PosternIO
import PosternProtocol

/// What a `BackendDialler` reports to its session, on the shard's queue.
protocol BackendDiallerDelegate: AnyObject {
    /// The backend accepted the login; the session owns the connection from now on.
    func dialler(_ dialler: BackendDialler, loggedIn backend: LoggedInBackend)
    /// The attempt gave up; every connection it opened is closed.
    func dialler(_ dialler: BackendDialler, failed failure: DialFailure)
}

/// Dials the backend for one login attempt: walks the route's candidates (skipping open circuit breakers)
/// and each candidate's addresses, applies the backend TLS policy, gives each step its own deadline
/// (connect per address, greeting, login), runs the back-end login machine, and hands back a logged-in
/// connection. A connection it abandons is always closed; a completion from an older step is dropped.
/// Confined to its shard's queue.
final class BackendDialler: @unchecked Sendable {
    weak var delegate: (any BackendDiallerDelegate)?
    let sessionID: String
    let context: SessionContext
    /// The attempt with its credentials and the candidates left; the only copy while dialling.
    private(set) var attempt: LoginAttempt
    private(set) var step: DialStep = .idle
    /// Bumped on every step change: an asynchronous answer carries the turn that asked and is dropped if stale.
    private var turn = 0
    private var lastFailure: String?
    /// Bytes of the connections abandoned on the way (failed addresses and candidates), for the log.
    private(set) var abandonedBytesIn: UInt64 = 0
    private(set) var abandonedBytesOut: UInt64 = 0
    /// The backend tried now (or last).
    private(set) var currentLabel: String?
    /// What every backend is told about the client (PROXY header, forwarded client).
    var outbound = BackendOutbound()
    /// When the current address's connect began (session clock), for `postern_backend_connect_duration_seconds`.
    private var connectStartedAt: UInt64 = 0

    init(attempt: LoginAttempt, context: SessionContext, sessionID: String) {
        self.attempt = attempt
        self.context = context
        self.sessionID = sessionID
    }

    var generation: Int { attempt.generation }

    /// True while the client's credentials live here (in the attempt or in a back-end login machine).
    var holdsCredentials: Bool { attempt.holdsCredentials || step.holdsMachine }

    /// Tries the first candidate (drained backends go behind the others).
    func start() {
        if let drained = context.backends?.drained, !drained.isEmpty {
            context.runtime.deferDrainedBackends(
                &attempt.candidatesLeft, drained: drained, defaultPort: context.listener.backend.port,
                session: sessionID, logger: context.logger)
        }
        nextCandidate()
    }

    /// Gives up without reporting (the session moved on): closes the connection and drops the credentials.
    func cancel() {
        abandon()
        attempt.releaseCredentials()
        enter(.finished)
    }

    /// Checks the current step's deadline.
    func tick(now: UInt64) {
        guard let deadline = step.deadline, now > deadline else { return }
        let limit = "timed out after \(context.limits.connectTimeout) s"
        switch step {
        case .resolving: candidateFailed("resolving: \(limit)")
        case .connecting: addressFailed("connect: \(limit)")
        case .greeting: candidateFailed("no greeting: \(limit)")
        case .loggingIn: candidateFailed("login: \(limit)")
        case .idle, .finished: break
        }
    }

    // MARK: Steps

    private func enter(_ next: DialStep) {
        step = next
        turn &+= 1
    }

    private var nextDeadline: UInt64 { context.clock.now() &+ context.stepTimeout }

    private func nextCandidate() {
        let listener = context.listener
        context.runtime.skipOpenBackends(
            &attempt.candidatesLeft, defaultPort: listener.backend.port, session: sessionID, logger: context.logger)
        guard !attempt.candidatesLeft.isEmpty else {
            finish(.unavailable(reason: lastFailure, label: currentLabel))
            return
        }
        let candidate = BackendCandidate(
            attempt.candidatesLeft.removeFirst(), listener: listener, tls: context.runtime.tls)
        currentLabel = candidate.label
        enter(.resolving(candidate, deadline: nextDeadline))
        let asked = turn
        context.dialler.resolve(host: candidate.host, port: candidate.port, on: context.shard) { result in
            self.resolved(result, turn: asked)
        }
    }

    private func resolved(_ result: Result<[SocketAddress], IOError>, turn asked: Int) {
        guard asked == turn, case .resolving(let candidate, _) = step else { return }
        switch result {
        case .failure(let error):
            candidateFailed(error.message)
        case .success(let addresses):
            connect(candidate, addresses: addresses)
        }
    }

    /// Connects to the first address that a socket can be made for; each address has its own deadline.
    private func connect(_ candidate: BackendCandidate, addresses: [SocketAddress]) {
        var left = addresses
        while !left.isEmpty {
            let address = left.removeFirst()
            let connection: any Connection
            do {
                connection = try context.dialler.connect(to: address, on: context.shard)
            } catch {
                if error.isLocal {
                    localFailure(error)
                    return
                }
                lastFailure = error.message
                continue
            }
            connection.maxQueuedBytes = context.limits.maxQueuedBytes
            connection.delegate = self
            connectStartedAt = context.clock.now()
            enter(.connecting(candidate, connection, addressesLeft: left, deadline: nextDeadline))
            connection.start()
            return
        }
        failed(candidate, lastFailure ?? "no address for \(candidate.host)")
    }

    /// The current address failed: the next address of the same candidate, or the next candidate.
    func addressFailed(_ reason: String) {
        guard case .connecting(let candidate, _, let left, _) = step else { return }
        abandon()
        lastFailure = reason
        connect(candidate, addresses: left)
    }

    /// The current candidate failed (counted against its breaker): the next candidate.
    func candidateFailed(_ reason: String) {
        guard let candidate = step.candidate else { return }
        failed(candidate, reason)
    }

    private func failed(_ candidate: BackendCandidate, _ reason: String) {
        abandon()
        lastFailure = reason
        context.runtime.recordConnectFailure(candidate.label, session: sessionID, logger: context.logger)
        context.backends?.recordFailure(candidate.label, error: reason)
        nextCandidate()
    }

    /// This process ran out of something: no breaker failure, the attempt ends at once.
    func localFailure(_ error: IOError) {
        abandon()
        finish(.unavailable(reason: "local: \(error.message)", label: currentLabel))
    }

    /// Closes the step's connection (if any) and forgets the step.
    private func abandon() {
        if let connection = step.connection {
            connection.delegate = nil
            abandonedBytesIn += connection.bytesIn
            abandonedBytesOut += connection.bytesOut
            connection.close()
        }
        enter(.idle)
    }

    private func finish(_ failure: DialFailure) {
        abandon()
        attempt.releaseCredentials()
        enter(.finished)
        delegate?.dialler(self, failed: failure)
    }

    private func succeed(text: String, leftover: [UInt8]) {
        guard case .loggingIn(let candidate, let connection, _, _) = step else { return }
        connection.delegate = nil
        attempt.releaseCredentials()
        enter(.finished)
        let backend = LoggedInBackend(
            connection: connection, label: candidate.label, tlsInfo: connection.tlsInfo, text: text,
            leftover: leftover)
        guard let delegate else {
            connection.close()
            return
        }
        delegate.dialler(self, loggedIn: backend)
    }

    // MARK: The back-end login

    /// The connection is up: a back-end login machine with the attempt's credentials waits for the greeting.
    func connected(_ candidate: BackendCandidate, _ connection: any Connection) {
        let connectNanos = context.clock.now() &- connectStartedAt
        context.metrics.backend(candidate.label).connected(nanoseconds: connectNanos)
        context.backends?.recordConnectTime(candidate.label, seconds: Double(connectNanos) / 1e9)
        guard let credentials = attempt.backendCredentials else {
            finish(.unavailable(reason: "credentials already released", label: candidate.label))
            return
        }
        let machine = context.runtime.makeBackEndLogin(
            for: context.listener, credentials: credentials, mode: candidate.mode, policy: candidate.policy,
            forwarded: outbound.forwarded)
        enter(.greeting(candidate, connection, machine, deadline: nextDeadline))
        // Before anything else, TLS included.
        if let header = outbound.proxyHeader { connection.write(header) }
        if candidate.mode == .implicit {
            connection.startTLS(
                context: candidate.policy.context(for: context.listener.proto), serverName: candidate.serverName)
        }
    }

    /// Feeds the machine; the first answer it gives ends the greeting step (the backend is healthy then).
    func received(_ bytes: [UInt8]) {
        switch step {
        case .greeting(let candidate, let connection, var machine, let deadline):
            let actions = machine.receive(bytes)
            guard !actions.isEmpty else {
                step = .greeting(candidate, connection, machine, deadline: deadline)
                return
            }
            if !actions.contains(where: { if case .failed = $0 { return true } else { return false } }) {
                context.runtime.recordConnectSuccess(candidate.label)
                context.backends?.recordSuccess(candidate.label)
            }
            enter(.loggingIn(candidate, connection, machine, deadline: nextDeadline))
            perform(actions)
        case .loggingIn(let candidate, let connection, var machine, let deadline):
            let actions = machine.receive(bytes)
            step = .loggingIn(candidate, connection, machine, deadline: deadline)
            perform(actions)
        case .idle, .resolving, .connecting, .finished:
            break
        }
    }

    func tlsEstablished() {
        guard case .loggingIn(let candidate, let connection, var machine, let deadline) = step,
            candidate.mode != .implicit
        else { return }
        let actions = machine.tlsEstablished()
        step = .loggingIn(candidate, connection, machine, deadline: deadline)
        perform(actions)
    }

    private func perform(_ actions: [BackEndAction]) {
        let current = turn
        for action in actions {
            guard current == turn, case .loggingIn(let candidate, let connection, _, _) = step else { return }
            switch action {
            case .send(let bytes):
                connection.write(bytes)
            case .startTLS:
                connection.startTLS(
                    context: candidate.policy.context(for: context.listener.proto), serverName: candidate.serverName)
            case .notice(let text):
                context.logger.warning(
                    "backend login",
                    metadata: ["session": "\(sessionID)", "backend": "\(candidate.label)", "notice": "\(text)"])
            case .succeeded(let text, let leftover):
                succeed(text: text, leftover: leftover)
            case .failed(let outcome):
                if case .unavailable(let reason) = outcome {
                    context.logger.warning(
                        "backend login failed",
                        metadata: ["session": "\(sessionID)", "backend": "\(candidate.label)", "error": "\(reason)"])
                }
                finish(.login(outcome, label: candidate.label))
            }
        }
    }
}
