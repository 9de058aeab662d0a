import PosternIO

/// What the server reports about itself (read by the admin endpoint and the metrics): the generation in
/// service, the last reload's outcome, whether it drains, and the listeners it has bound.
extension Server {
    /// True from the moment SIGTERM/SIGINT (or `stop`) started the drain: `/readyz` answers 503.
    public var isDraining: Bool { draining.load(ordering: .relaxed) }

    /// The last configuration load: set at `start()` (attempt 0) and after each reload; nil before `start()`.
    public var lastReload: ReloadRecord? { status.withLock { $0.lastReload } }

    /// The configuration generation in service (1 at start, one more for each reload that succeeded).
    public var generation: Int { currentRuntime.generation }

    /// The listeners accepting right now: each listener's name with its bound addresses (empty once draining).
    public var boundListeners: [String: [SocketAddress]] { status.withLock { $0.boundListeners } }
}
