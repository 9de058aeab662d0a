import Logging
import PosternConfig
import PosternIO

/// What a session runs with besides its client connection: its shard, the configuration it was accepted
/// under, where it reports, the abuse guards it shares, and the seams tests replace (the dialler, the clock
/// and the timer).
///
/// Only the shard and the logger are stored per session; the rest is a `SessionShared` that every session
/// of a listener accepted under the same runtime, stats and guards uses (the runtime keeps it), so an idle
/// session does not carry its own copy of the listener's configuration and metric handles.
struct SessionContext: Sendable {
    let shard: EventShard
    let logger: Logger
    /// The part the sessions of one listener share.
    let shared: SessionShared

    /// Without `guards`, the session gets guards of its own from the runtime's limits (tests). A context with
    /// its own dialler, clock or timer (tests), or without `guards`, gets a `SessionShared` of its own.
    init(
        shard: EventShard, runtime: Runtime, listener: ListenerConfig, stats: Stats, logger: Logger,
        dialler: (any Dialler)? = nil, clock: (any SessionClock)? = nil, guards: SessionGuards? = nil,
        timer: (any SessionTimer)? = nil, backends: BackendRegistry? = nil, metrics: MetricTable? = nil
    ) {
        self.shard = shard
        self.logger = logger
        let table = metrics ?? stats.table
        if dialler == nil, clock == nil, timer == nil, let guards {
            shared = runtime.sessionSharing.shared(
                listener: listener, stats: stats, guards: guards, backends: backends, metrics: table
            ) {
                SessionShared(
                    runtime: runtime, listener: listener, stats: stats, dialler: runtime.dialler,
                    clock: MonotonicClock(), guards: guards, timer: ShardTimer(), backends: backends, metrics: table)
            }
        } else {
            let clock = clock ?? MonotonicClock()
            shared = SessionShared(
                runtime: runtime, listener: listener, stats: stats, dialler: dialler ?? runtime.dialler,
                clock: clock,
                guards: guards
                    ?? SessionGuards(limits: runtime.config.limits, clock: SessionMapClock(clock: clock)),
                timer: timer ?? ShardTimer(), backends: backends, metrics: table)
        }
    }

    var runtime: Runtime { shared.runtime }
    var listener: ListenerConfig { shared.listener }
    var stats: Stats { shared.stats }
    /// Resolves backend names and opens backend connections.
    var dialler: any Dialler { shared.dialler }
    var clock: any SessionClock { shared.clock }
    /// The limiter, the throttle and the rejection timing (shared by every session of the server).
    var guards: SessionGuards { shared.guards }
    /// Arms the waits of throttled logins and held answers.
    var timer: any SessionTimer { shared.timer }
    /// The metric handles of the configuration the session was accepted under, and of its listener.
    var metrics: MetricTable { shared.metrics }
    var listenerMetrics: ListenerMetrics { shared.listenerMetrics }
    /// The server's drained backends and connect records; nil in tests that do not look at them.
    var backends: BackendRegistry? { shared.backends }

    var limits: Limits { runtime.config.limits }
    /// `limits.connect_timeout` in clock nanoseconds: the deadline of each backend step.
    var stepTimeout: UInt64 { .nanoseconds(limits.connectTimeout) }
}
