import Prometheus

/// The metric handles of one `backend` label value (a named backend or `other`), made once per configuration.
struct BackendMetrics: Sendable {
    let connectDuration: DurationHistogram
    let breakerOpened: Counter
    let skipped: Counter

    init(label: String, registry: PrometheusCollectorRegistry) {
        let backend = [("backend", label)]
        connectDuration = registry.histogram(
            MetricCatalog.backendConnectDuration, backend, buckets: MetricCatalog.connectBuckets)
        breakerOpened = registry.counter(MetricCatalog.backendBreakerOpened, backend)
        skipped = registry.counter(MetricCatalog.backendSkipped, backend)
    }

    func connected(nanoseconds: UInt64) {
        connectDuration.record(.nanoseconds(Int64(clamping: nanoseconds)))
    }
}
