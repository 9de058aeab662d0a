/// Why a client connection was closed right at accept: the `reason` label of
/// `postern_connections_refused_total` (the limit's config key, or the drain).
enum RefusalReason: String, Sendable, Equatable, CaseIterable {
    /// `limits.max_connections` (alias `max_sessions`) connections were open.
    case maxConnections = "max_connections"
    /// The server stops (drain).
    case draining
}
