/// Why a client connection was closed right at accept: the `reason` label of
/// `postern_connections_refused_total`.
enum RefusalReason: String, Sendable, Equatable, CaseIterable {
    /// `limits.max_sessions` sessions were live.
    case maxSessions = "max_sessions"
    /// The server stops (drain).
    case draining
}
