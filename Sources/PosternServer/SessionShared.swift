import PosternConfig
import PosternIO

/// The part of a `SessionContext` that does not change from one session of a listener to the next: the
/// runtime, the listener's configuration, where sessions report, the guards and the seams. One instance
/// serves every session of a listener under one runtime (`SessionSharing`); immutable.
final class SessionShared: Sendable {
    let runtime: Runtime
    let listener: ListenerConfig
    let stats: Stats
    let dialler: any Dialler
    let clock: any SessionClock
    let guards: SessionGuards
    let timer: any SessionTimer
    let metrics: MetricTable
    let listenerMetrics: ListenerMetrics
    let backends: BackendRegistry?

    init(
        runtime: Runtime, listener: ListenerConfig, stats: Stats, dialler: any Dialler, clock: any SessionClock,
        guards: SessionGuards, timer: any SessionTimer, backends: BackendRegistry?, metrics: MetricTable
    ) {
        self.runtime = runtime
        self.listener = listener
        self.stats = stats
        self.dialler = dialler
        self.clock = clock
        self.guards = guards
        self.timer = timer
        self.backends = backends
        self.metrics = metrics
        self.listenerMetrics = metrics.listener(listener.name)
    }

    /// True when this instance was made for these values (the listener equal, the rest the same objects).
    func serves(
        listener: ListenerConfig, stats: Stats, guards: SessionGuards, backends: BackendRegistry?,
        metrics: MetricTable
    ) -> Bool {
        self.stats === stats && self.guards === guards && self.backends === backends && self.metrics === metrics
            && self.listener == listener
    }
}
