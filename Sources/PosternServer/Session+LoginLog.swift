import PosternLog

/// The lines and figures of each login attempt's end: `login succeeded` (info) and `login failed` (notice),
/// and `postern_login_duration_seconds`. They name the user as sent and the mechanism, never a secret.
extension Session {
    /// The attempt that runs now (routing or dialling), if any.
    var currentAttempt: LoginAttempt? {
        switch phase {
        case .routing(let attempt): return attempt
        case .dialling(let dialler): return dialler.attempt
        case .paused(let pause):
            if case .answer(_, let attempt) = pause.stage { return attempt }
            return nil
        default: return nil
        }
    }

    /// The backend accepted: the line, the histogram, and the session line's `login_ms`.
    func loginSucceeded(_ backend: LoggedInBackend, attempt: LoginAttempt) {
        let nanos = context.clock.now() &- attempt.startedAt
        log.loginNanos = nanos
        context.listenerMetrics.loginFinished(.ok, nanoseconds: nanos)
        context.stats.loginTally.record(listener: listener.name, result: .ok)
        var fields = LogFieldList(capacity: 9)
        fields.append("backend", backend.label)
        fields.append("backend_user", log.backendUser ?? attempt.routingKey)
        fields.append("client", log.client)
        fields.append("listener", listener.name)
        fields.append("login_ms", String(nanos / 1_000_000))
        fields.append("mechanism", attempt.mechanism.rawValue)
        fields.append("protocol", log.proto)
        fields.append("session", id)
        fields.append("user", attempt.routingKey)
        logger.info("login succeeded", metadata: fields.metadata)
    }

    /// The attempt ended without a backend: the line (with the result as `reason`) and the histogram.
    func loginFailed(_ failure: DialFailure, attempt: LoginAttempt) {
        let nanos = context.clock.now() &- attempt.startedAt
        context.listenerMetrics.loginFinished(failure.result, nanoseconds: nanos)
        context.stats.loginTally.record(listener: listener.name, result: failure.result)
        var fields = LogFieldList(capacity: 9)
        if let backend = failure.label ?? log.backend { fields.append("backend", backend) }
        fields.append("client", log.client)
        fields.append("listener", listener.name)
        fields.append("login_ms", String(nanos / 1_000_000))
        fields.append("mechanism", attempt.mechanism.rawValue)
        fields.append("protocol", log.proto)
        fields.append("reason", failure.result.rawValue)
        fields.append("session", id)
        fields.append("user", attempt.routingKey)
        logger.notice("login failed", metadata: fields.metadata)
    }
}
