import PosternGuard
import PosternProtocol

/// Login throttling (`limits.auth_failure_delay`, `trusted_networks`) and answers that do not tell which
/// names exist. A delayed login waits on a shard timer before it is routed, so no backend sees the guess
/// before the delay passed and a client that gives up early learns nothing. An answer given without a
/// backend (unknown user, refused route, spent budget) is held until a backend's rejection would have come.
extension Session {
    /// The throttle decides whether the login is routed now, after a delay, or answered as failed after a
    /// delay without asking the backend.
    func admitLogin(_ request: LoginRequest) {
        guard let client = clientIP else {
            route(request)
            return
        }
        let throttle = context.guards.throttle
        let user = request.credentials.routingKey
        let secret = Array(request.credentials.password.utf8) + (request.credentials.passThrough?.response ?? [])
        guardState.note = ThrottleNote(
            generation: generation, user: user, fingerprint: throttle.fingerprint(user: user, secret: secret),
            client: client)
        switch throttle.admit(user: user, client: client) {
        case .proceed(let delay) where delay > 0:
            context.stats.loginDelayed(listener: listener.name)
            pause(.beforeRouting(request), until: context.clock.now() &+ .nanoseconds(delay))
        case .proceed:
            route(request)
        case .refuse(let delay):
            logger.info(
                "login refused: failure budget spent", metadata: ["session": "\(id)", "user": "\(user)"])
            let failure = DialFailure(outcome: .unknownUser, result: .throttled, reason: nil, label: nil)
            var attempt = LoginAttempt(generation: generation, request: request, startedAt: context.clock.now())
            attempt.releaseCredentials()
            pause(.answer(failure, attempt), until: context.clock.now() &+ .nanoseconds(delay))
        }
    }

    /// Holds the login until `until`; a shard timer (and, as a backstop, the tick) lets it go.
    func pause(_ stage: LoginPause.Stage, until: UInt64) {
        let pause = LoginPause(generation: generation, until: until, stage: stage)
        phase = .paused(pause)
        context.timer.schedule(at: until, on: shard) { [weak self] in
            guard let self else { return }
            self.pauseDue(generation: pause.generation, now: self.context.clock.now())
        }
    }

    /// Lets a held login go on once its time came; a call for another attempt, or too early, does nothing.
    func pauseDue(generation asked: Int, now: UInt64) {
        guard case .paused(let pause) = phase, pause.generation == asked, now >= pause.until else { return }
        switch pause.stage {
        case .beforeRouting(let request): route(request)
        case .answer(let failure, _): finishLogin(failure)
        }
    }

    /// An answer found without a backend (unknown user, refused route): counted as a failed login, and held
    /// until the attempt's start plus a typical backend rejection time.
    func answerWithoutBackend(_ failure: DialFailure, attempt: LoginAttempt) {
        recordFailure()
        let guards = context.guards
        let until = attempt.startedAt &+ .nanoseconds(guards.rejections.hold(jitter: guards.jitter()))
        if context.clock.now() >= until {
            finishLogin(failure)
        } else {
            var attempt = attempt
            attempt.releaseCredentials()
            pause(.answer(failure, attempt), until: until)
        }
    }

    /// The backend ended the attempt: a refused password counts against the client and teaches the
    /// rejection timing.
    func backendFailed(_ failure: DialFailure, routedAt: UInt64) {
        guard case .rejected = failure.outcome else { return }
        let seconds = Double(context.clock.now() &- routedAt) / 1_000_000_000
        context.guards.rejections.record(seconds: seconds)
        recordFailure()
    }

    /// The backend accepted: the name's failure budget from this network is restored.
    func recordLoginSuccess() {
        guard let note = takeNote() else { return }
        context.guards.throttle.recordSuccess(user: note.user, client: note.client)
    }

    private func recordFailure() {
        guard let note = takeNote() else { return }
        _ = context.guards.throttle.recordFailure(user: note.user, fingerprint: note.fingerprint, client: note.client)
    }

    /// The note of the current attempt, once.
    private func takeNote() -> ThrottleNote? {
        guard let note = guardState.note, note.generation == generation else { return nil }
        guardState.note = nil
        return note
    }
}
