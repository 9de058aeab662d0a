import CoreMetrics
import Foundation
import PosternMap
import Prometheus
import Synchronization

/// Process-wide counters, exported through swift-metrics to a Prometheus registry.
public final class Stats: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    private let active = Atomic<Int>(0)
    private let sessionsActive: CoreMetrics.Meter
    private let openFDs: CoreMetrics.Meter
    private let reloadsOK: CoreMetrics.Counter
    private let reloadsFailed: CoreMetrics.Counter

    public init() {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        self.factory = PrometheusMetricsFactory(registry: registry)
        sessionsActive = CoreMetrics.Meter(label: "postern_sessions_active", dimensions: [], factory: factory)
        openFDs = CoreMetrics.Meter(label: "postern_open_fds", dimensions: [], factory: factory)
        reloadsOK = CoreMetrics.Counter(
            label: "postern_reloads_total", dimensions: [("result", "ok")], factory: factory)
        reloadsFailed = CoreMetrics.Counter(
            label: "postern_reloads_total", dimensions: [("result", "failed")], factory: factory)
    }

    /// Live sessions right now.
    public var activeSessions: Int { active.load(ordering: .relaxed) }

    func sessionStarted(listener: String) {
        active.add(1, ordering: .relaxed)
        sessionsActive.increment()
        CoreMetrics.Counter(label: "postern_sessions_total", dimensions: [("listener", listener)], factory: factory)
            .increment()
    }

    func sessionEnded(listener: String, outcome: String, bytesIn: UInt64, bytesOut: UInt64) {
        active.subtract(1, ordering: .relaxed)
        sessionsActive.decrement()
        CoreMetrics.Counter(
            label: "postern_session_outcomes_total", dimensions: [("outcome", outcome)], factory: factory
        )
        .increment()
        CoreMetrics.Counter(label: "postern_client_bytes_total", dimensions: [("direction", "in")], factory: factory)
            .increment(by: Int64(bytesIn))
        CoreMetrics.Counter(label: "postern_client_bytes_total", dimensions: [("direction", "out")], factory: factory)
            .increment(by: Int64(bytesOut))
    }

    func login(result: String) {
        CoreMetrics.Counter(label: "postern_logins_total", dimensions: [("result", result)], factory: factory)
            .increment()
    }

    /// Where the map (cache, LDAP) and the circuit breaker count their events.
    public var mapMetrics: MapMetricsSink {
        MapMetricsSink { [factory] label, dimensions in
            CoreMetrics.Counter(label: label, dimensions: dimensions, factory: factory).increment()
        }
    }

    func reload(succeeded: Bool) {
        (succeeded ? reloadsOK : reloadsFailed).increment()
    }

    /// The Prometheus text exposition, with the open-fd count refreshed.
    public func render() -> [UInt8] {
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
        openFDs.set(Int64(fds))
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}
