import Logging
import PosternConfig
import PosternIO

/// What a session runs with besides its client connection: its shard, the configuration it was accepted
/// under, where it reports, the abuse guards it shares, and the seams tests replace (the dialler, the clock
/// and the timer).
struct SessionContext: Sendable {
    let shard: EventShard
    let runtime: Runtime
    let listener: ListenerConfig
    let stats: Stats
    let logger: Logger
    /// Resolves backend names and opens backend connections.
    let dialler: any Dialler
    let clock: any SessionClock
    /// The limiter, the throttle and the rejection timing (shared by every session of the server).
    let guards: SessionGuards
    /// Arms the waits of throttled logins and held answers.
    let timer: any SessionTimer
    /// The metric handles of the configuration the session was accepted under, and of its listener.
    let metrics: MetricTable
    let listenerMetrics: ListenerMetrics
    /// The server's drained backends and connect records; nil in tests that do not look at them.
    let backends: BackendRegistry?

    /// Without `guards`, the session gets guards of its own from the runtime's limits (tests).
    init(
        shard: EventShard, runtime: Runtime, listener: ListenerConfig, stats: Stats, logger: Logger,
        dialler: (any Dialler)? = nil, clock: any SessionClock = MonotonicClock(), guards: SessionGuards? = nil,
        timer: any SessionTimer = ShardTimer(), backends: BackendRegistry? = nil, metrics: MetricTable? = nil
    ) {
        self.shard = shard
        self.runtime = runtime
        self.listener = listener
        self.stats = stats
        self.logger = logger
        self.dialler = dialler ?? runtime.dialler
        self.clock = clock
        self.guards = guards ?? SessionGuards(limits: runtime.config.limits, clock: SessionMapClock(clock: clock))
        self.timer = timer
        self.backends = backends
        let table = metrics ?? stats.table
        self.metrics = table
        self.listenerMetrics = table.listener(listener.name)
    }

    var limits: Limits { runtime.config.limits }
    /// `limits.connect_timeout` in clock nanoseconds: the deadline of each backend step.
    var stepTimeout: UInt64 { .nanoseconds(limits.connectTimeout) }
}
