/// How one login attempt ended: the `result` label of `postern_logins_total` and
/// `postern_login_duration_seconds`, and the `reason` of a `login failed` log line.
enum LoginResult: String, Sendable, Equatable, CaseIterable {
    /// The backend accepted.
    case ok
    /// The backend refused the credentials (NO / -ERR).
    case rejected
    /// The map knows no backend for the user.
    case unknownUser = "unknown-user"
    /// No backend could be used (unreachable, TLS failure, the directory failed).
    case unavailable
    /// The user name's failure budget from this client address is spent (login throttling).
    case throttled
    /// The backend accepted, but the user has `limits.max_sessions_per_user` sessions already.
    case maxSessionsPerUser = "max-sessions-per-user"
}
