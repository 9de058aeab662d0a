import Prometheus

/// Handles made from `MetricCatalog` families, so that a name always comes with its help text.
extension PrometheusCollectorRegistry {
    func counter(_ family: MetricCatalog.Family, _ labels: [(String, String)] = []) -> Counter {
        makeCounter(descriptor: family.descriptor, labels: labels)
    }

    func gauge(_ family: MetricCatalog.Family, _ labels: [(String, String)] = []) -> Gauge {
        makeGauge(descriptor: family.descriptor, labels: labels)
    }

    func histogram(_ family: MetricCatalog.Family, _ labels: [(String, String)], buckets: [Duration])
        -> DurationHistogram
    {
        makeDurationHistogram(descriptor: family.descriptor, labels: labels, buckets: buckets)
    }
}

extension MetricCatalog.Family {
    /// The family as swift-prometheus describes a metric (the whole name as its base name).
    var descriptor: MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }
}
