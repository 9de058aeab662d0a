import Foundation
import PosternConfig
import PosternMap
import PosternTLS

/// Putting a configuration's metrics into service: its listener and backend handles, its certificates'
/// expiry, its generation.
extension Stats {
    /// Makes the handles of `runtime`'s configuration (every listener, every named backend and `other`, at zero
    /// if new), sets the certificate expiry gauges, and records the generation and the time it was loaded.
    func configure(_ runtime: Runtime, at date: Date = Date()) {
        let listed = runtime.mapSources.reduce(into: Set<BackendAddress>()) { $0.formUnion($1.listedServers) }
        let labels = BackendLabels(config: runtime.config, listed: listed)
        let table = MetricTable(config: runtime.config, backendLabels: labels, registry: registry)
        tables.withLock { $0 = table }
        setCertificateExpiry(runtime)
        configGeneration.set(Int64(runtime.generation))
        lastReloadSuccess.set(date.timeIntervalSince1970)
    }

    /// One gauge per listener and certificate subject (the earliest expiry when two certificates share one);
    /// the gauges of the previous configuration are removed.
    private func setCertificateExpiry(_ runtime: Runtime) {
        var earliest: [String: [String: Double]] = [:]
        for listener in runtime.config.listeners {
            guard let context = runtime.serverTLS(for: listener.name) else { continue }
            for certificate in context.loadedCertificates {
                let current = earliest[listener.name]?[certificate.subject] ?? .infinity
                earliest[listener.name, default: [:]][certificate.subject] = min(current, certificate.notAfter)
            }
        }
        certificateGauges.withLock { gauges in
            for gauge in gauges { registry.unregisterGauge(gauge) }
            gauges = []
            for (listener, subjects) in earliest.sorted(by: { $0.key < $1.key }) {
                for (subject, notAfter) in subjects.sorted(by: { $0.key < $1.key }) {
                    let gauge = registry.gauge(
                        MetricCatalog.certificateExpiry, [("listener", listener), ("subject", subject)])
                    gauge.set(notAfter)
                    gauges.append(gauge)
                }
            }
        }
    }
}
