import PosternConfig
import Prometheus

/// The metric handles of one configuration: per listener and per `backend` label value, every one made when
/// the configuration is put into service (so each label value the configuration knows is exported at zero)
/// and then only looked up in these immutable tables.
final class MetricTable: Sendable {
    let backendLabels: BackendLabels
    private let listeners: [String: ListenerMetrics]
    private let backends: [String: BackendMetrics]
    private let registry: PrometheusCollectorRegistry

    init(config: PosternConfig, backendLabels: BackendLabels, registry: PrometheusCollectorRegistry) {
        self.backendLabels = backendLabels
        self.registry = registry
        var listeners: [String: ListenerMetrics] = [:]
        for listener in config.listeners {
            listeners[listener.name] = ListenerMetrics(listener: listener.name, registry: registry)
        }
        self.listeners = listeners
        var backends: [String: BackendMetrics] = [:]
        for label in backendLabels.labels + [BackendLabels.other] {
            backends[label] = BackendMetrics(label: label, registry: registry)
        }
        self.backends = backends
    }

    /// An empty table (before the first configuration, and in tests).
    convenience init(registry: PrometheusCollectorRegistry) {
        let empty = PosternConfig(
            sourcePath: "", server: ServerSettings(), listeners: [], tls: nil, backendTLS: BackendTLSConfig(),
            map: MapConfig(), limits: Limits())
        self.init(config: empty, backendLabels: BackendLabels(config: empty), registry: registry)
    }

    /// The handles of a listener. A listener this configuration does not have (a session accepted just
    /// before a reload that removed it) gets its handles made now.
    func listener(_ name: String) -> ListenerMetrics {
        listeners[name] ?? ListenerMetrics(listener: name, registry: registry)
    }

    /// The handles of a backend (`host:port`): its own when the configuration names it, else `other`'s.
    func backend(_ label: String) -> BackendMetrics {
        backends[backendLabels.label(for: label)] ?? BackendMetrics(label: BackendLabels.other, registry: registry)
    }
}
