import PosternIO

/// What the server reports about itself (read by the admin API): the generation in service, the last
/// reload's outcome, whether it drains, and the listeners it has bound.
///
/// Minimal stand-in computed from what the server has today; the lifecycle work replaces it.
extension Server {
    /// True once SIGTERM/SIGINT (or `stop`) started the drain.
    public var isDraining: Bool { draining.load(ordering: .relaxed) }

    /// The last configuration load; nil until reloads are recorded.
    public var lastReload: ReloadRecord? { nil }

    /// The configuration generation in service.
    public var generation: Int { currentRuntime.generation }

    /// The listeners accepting right now, by name, with their bound addresses (empty once draining).
    public var boundListeners: [String: [SocketAddress]] {
        guard !isDraining else { return [:] }
        let bound = listeners.withLock { $0.map(\.address) }
        var result: [String: [SocketAddress]] = [:]
        for listener in currentRuntime.config.listeners {
            let specs = Set(listener.listen.map(\.port))
            let addresses = bound.filter { specs.contains(Int($0.port)) }
            if !addresses.isEmpty { result[listener.name] = addresses }
        }
        return result
    }
}
