import Foundation
import PosternMap
import PosternProcess
import PosternSync
import Prometheus

/// Process-wide metrics in a Prometheus registry (names, help and buckets from `MetricCatalog`). Every handle
/// is made once: the fixed ones here, those of a configuration's listeners and backends in its `MetricTable`.
public final class Stats: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let active = Atomic<Int>(0)
    private let sessionsActive: Gauge
    private let openFDs: Gauge
    private let reloadsOK: Counter
    private let reloadsFailed: Counter
    private let outcomes: [SessionOutcome: Counter]
    private let logins: [LoginResult: Counter]
    private let clientBytesIn: Counter
    private let clientBytesOut: Counter
    /// Bytes relayed, counted per read by the relays.
    let relayed: RelayedBytes
    /// `postern_config_generation`.
    let configGeneration: Gauge
    /// `postern_config_last_reload_success_timestamp_seconds`.
    let lastReloadSuccess: Gauge
    private let lookupDurations: [String: DurationHistogram]
    /// The counters of `MapMetricsSink` with their fixed label values, by name and then label value.
    private let sinkCounters: [String: [String: Counter]]
    /// Sink counters with a label value not known in advance (made once each).
    private let otherSinkCounters = Mutex<[String: Counter]>([:])
    let tables: Mutex<MetricTable>
    /// Logins by listener and result, for the status page (`StatusHistory`).
    let loginTally = LoginTally()
    let certificateGauges = Mutex<[Gauge]>([])

    public init() {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        func counter(_ family: MetricCatalog.Family, _ labels: [(String, String)] = []) -> Counter {
            registry.counter(family, labels)
        }
        func gauge(_ family: MetricCatalog.Family, _ labels: [(String, String)] = []) -> Gauge {
            registry.gauge(family, labels)
        }
        sessionsActive = gauge(MetricCatalog.sessionsActive)
        openFDs = gauge(MetricCatalog.openFDs)
        reloadsOK = counter(MetricCatalog.reloads, [("result", "ok")])
        reloadsFailed = counter(MetricCatalog.reloads, [("result", "failed")])
        outcomes = Dictionary(
            uniqueKeysWithValues: SessionOutcome.allCases.map {
                ($0, counter(MetricCatalog.sessionOutcomes, [("outcome", $0.rawValue)]))
            })
        logins = Dictionary(
            uniqueKeysWithValues: LoginResult.allCases.map {
                ($0, counter(MetricCatalog.logins, [("result", $0.rawValue)]))
            })
        clientBytesIn = counter(MetricCatalog.clientBytes, [("direction", "in")])
        clientBytesOut = counter(MetricCatalog.clientBytes, [("direction", "out")])
        relayed = RelayedBytes(
            clientToBackend: counter(MetricCatalog.relayedBytes, [("direction", RelayedBytes.clientToBackendLabel)]),
            backendToClient: counter(MetricCatalog.relayedBytes, [("direction", RelayedBytes.backendToClientLabel)]))
        gauge(MetricCatalog.buildInfo, [("version", BuildInfo.version)]).set(to: 1)
        configGeneration = gauge(MetricCatalog.configGeneration)
        lastReloadSuccess = gauge(MetricCatalog.lastReloadSuccess)
        lookupDurations = Dictionary(
            uniqueKeysWithValues: ["file", "regex", "ldap"].map {
                (
                    $0,
                    registry.histogram(
                        MetricCatalog.mapLookupDuration, [("source", $0)], buckets: MetricCatalog.lookupBuckets)
                )
            })
        var sink: [String: [String: Counter]] = [:]
        for (family, values) in Stats.sinkLabelValues {
            sink[family.name] = Dictionary(
                uniqueKeysWithValues: values.map { value in
                    (value, counter(family, value.isEmpty ? [] : [("result", value)]))
                })
        }
        sinkCounters = sink
        tables = Mutex(MetricTable(registry: registry))
    }

    /// The label values the map and the directory count with (the empty value: a counter without labels).
    private static let sinkLabelValues: [(MetricCatalog.Family, [String])] = [
        (MetricCatalog.mapCache, ["hit", "negative-hit", "miss", "stale", "error"]),
        (MetricCatalog.mapCacheEvictions, [""]),
        (MetricCatalog.ldapRequests, ["found", "not-found", "ambiguous", "error", "timeout"]),
    ]

    /// Live sessions right now.
    public var activeSessions: Int { active.load(ordering: .relaxed) }

    /// The handles of the configuration in service.
    var table: MetricTable { tables.withLock { $0 } }

    func sessionStarted(_ listener: ListenerMetrics) {
        active.add(1, ordering: .relaxed)
        sessionsActive.increment()
        listener.sessions.increment()
    }

    func sessionEnded(outcome: SessionOutcome, bytesIn: UInt64, bytesOut: UInt64) {
        active.subtract(1, ordering: .relaxed)
        sessionsActive.decrement()
        outcomes[outcome]?.increment()
        clientBytesIn.increment(by: Int64(clamping: bytesIn))
        clientBytesOut.increment(by: Int64(clamping: bytesOut))
    }

    func login(result: LoginResult) {
        logins[result]?.increment()
    }

    /// Where the map (cache, LDAP, lookup times) and the circuit breaker report.
    public var mapMetrics: MapMetricsSink {
        MapMetricsSink(
            count: { [self] name, dimensions in count(name, dimensions) },
            lookupDuration: { [lookupDurations] source, seconds in
                lookupDurations[source]?.record(.nanoseconds(Int64(seconds * 1e9)))
            })
    }

    private func count(_ name: String, _ dimensions: [(String, String)]) {
        if dimensions.count == 1, dimensions[0].0 == "backend" {
            let metrics = table.backend(dimensions[0].1)
            if name == MetricCatalog.backendBreakerOpened.name { return metrics.breakerOpened.increment() }
            if name == MetricCatalog.backendSkipped.name { return metrics.skipped.increment() }
        }
        let value = dimensions.count == 1 && dimensions[0].0 == "result" ? dimensions[0].1 : nil
        if let counter = sinkCounters[name]?[value ?? ""], dimensions.count == (value == nil ? 0 : 1) {
            return counter.increment()
        }
        let key = ([name] + dimensions.map { "\($0.0)=\($0.1)" }).joined(separator: "\u{1}")
        let family = MetricCatalog.byName[name] ?? MetricCatalog.Family(name: name, help: "Counted by \(name).")
        otherSinkCounters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = registry.counter(family, dimensions)
            counters[key] = counter
            return counter
        }.increment()
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
