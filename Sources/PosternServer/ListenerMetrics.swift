import Prometheus

/// The metric handles of one listener, made once per configuration (so every label value exists, at zero,
/// from the start) and used by its sessions without any lookup by name.
struct ListenerMetrics: Sendable {
    let sessions: Counter
    let loginDuration: [LoginResult: DurationHistogram]
    let tlsFailures: [TLSFailureReason: Counter]
    let refused: [RefusalReason: Counter]

    init(listener: String, registry: PrometheusCollectorRegistry) {
        let name = ("listener", listener)
        sessions = registry.counter(MetricCatalog.sessionsTotal, [name])
        var durations: [LoginResult: DurationHistogram] = [:]
        for result in LoginResult.allCases {
            durations[result] = registry.histogram(
                MetricCatalog.loginDuration, [name, ("result", result.rawValue)], buckets: MetricCatalog.loginBuckets)
        }
        loginDuration = durations
        var failures: [TLSFailureReason: Counter] = [:]
        for reason in TLSFailureReason.allCases {
            failures[reason] = registry.counter(
                MetricCatalog.tlsHandshakeFailures, [name, ("reason", reason.rawValue)])
        }
        tlsFailures = failures
        var refusals: [RefusalReason: Counter] = [:]
        for reason in RefusalReason.allCases {
            refusals[reason] = registry.counter(MetricCatalog.connectionsRefused, [name, ("reason", reason.rawValue)])
        }
        refused = refusals
    }

    /// Records how long a login took, by its result.
    func loginFinished(_ result: LoginResult, nanoseconds: UInt64) {
        loginDuration[result]?.record(.nanoseconds(Int64(clamping: nanoseconds)))
    }

    func tlsHandshakeFailed(_ reason: TLSFailureReason) {
        tlsFailures[reason]?.increment()
    }

    func refusedConnection(_ reason: RefusalReason) {
        refused[reason]?.increment()
    }
}
