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

    init(
        shard: EventShard, runtime: Runtime, listener: ListenerConfig, stats: Stats, logger: Logger,
        dialler: (any Dialler)? = nil, clock: any SessionClock = MonotonicClock()
    ) {
        self.shard = shard
        self.runtime = runtime
        self.listener = listener
        self.stats = stats
        self.logger = logger
        self.dialler = dialler ?? runtime.dialler
        self.clock = clock
    }

    var limits: Limits { runtime.config.limits }
    /// `limits.connect_timeout` in clock nanoseconds: the deadline of each backend step.
    var stepTimeout: UInt64 { .nanoseconds(limits.connectTimeout) }
}
