import CoreMetrics
import Foundation
import Prometheus

/// The configuration's series: `postern_config_generation` and
/// `postern_config_last_reload_success_timestamp_seconds` (besides `postern_reloads_total{result}`).
extension Stats {
    /// A configuration load finished (the one at start, or a reload): the generation in service, the time
    /// of the last load that succeeded, and the reload counters (not for the load at start).
    func configLoaded(_ record: ReloadRecord) {
        let factory = PrometheusMetricsFactory(registry: registry)
        CoreMetrics.Meter(label: "postern_config_generation", dimensions: [], factory: factory)
            .set(Double(record.generation))
        if record.succeeded {
            CoreMetrics.Meter(
                label: "postern_config_last_reload_success_timestamp_seconds", dimensions: [], factory: factory
            )
            .set(record.at.timeIntervalSince1970)
        }
        if record.attempt > 0 { reload(succeeded: record.succeeded) }
    }
}
