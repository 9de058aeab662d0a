import Logging
import PosternConfig
import PosternIO

/// What a session runs with besides its client connection: its shard, the configuration it was accepted
/// under, where it reports, and the seams tests replace (the dialler and the clock).
struct SessionContext: Sendable {
    let shard: EventShard
    let runtime: Runtime
    let listener: ListenerConfig
    let stats: Stats
    let logger: Logger
    /// Resolves backend names and opens backend connections.
    let dialler: any Dialler
    let clock: any SessionClock
    /// The metric handles of the configuration the session was accepted under, and of its listener.
    let metrics: MetricTable
    let listenerMetrics: ListenerMetrics
    /// The server's drained backends and connect records; nil in tests that do not look at them.
    let backends: BackendRegistry?

    init(
        shard: EventShard, runtime: Runtime, listener: ListenerConfig, stats: Stats, logger: Logger,
        dialler: (any Dialler)? = nil, clock: any SessionClock = MonotonicClock(), backends: BackendRegistry? = nil,
        metrics: MetricTable? = nil
    ) {
        self.shard = shard
        self.runtime = runtime
        self.listener = listener
        self.stats = stats
        self.logger = logger
        self.dialler = dialler ?? runtime.dialler
        self.clock = clock
        self.backends = backends
        let table = metrics ?? stats.table
        self.metrics = table
        self.listenerMetrics = table.listener(listener.name)
    }

    var limits: Limits { runtime.config.limits }
    /// `limits.connect_timeout` in clock nanoseconds: the deadline of each backend step.
    var stepTimeout: UInt64 { .nanoseconds(limits.connectTimeout) }
}
