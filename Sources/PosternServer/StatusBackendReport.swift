/// One backend as the status page shows it: the `/backends` row, its connect latency (p50 and p99 of the
/// last `BackendRegistry.latencySamples` connects) and whether it is failing now.
struct StatusBackendReport: Sendable, Equatable, Encodable {
    let report: BackendReport
    let connectP50: Double?
    let connectP99: Double?
    /// Its breaker is open, or its last connect failed (the last failure is newer than the last success).
    let failing: Bool

    init(_ report: BackendReport, connectSeconds: [Double]) {
        self.report = report
        let sorted = connectSeconds.sorted()
        connectP50 = StatusBackendReport.percentile(sorted, 0.50)
        connectP99 = StatusBackendReport.percentile(sorted, 0.99)
        if report.breaker == "open" {
            failing = true
        } else if let failure = report.lastFailure {
            failing = report.lastSuccess.map { failure > $0 } ?? true
        } else {
            failing = false
        }
    }

    /// The nearest-rank percentile of `sorted` (ascending) in milliseconds; nil when empty.
    static func percentile(_ sorted: [Double], _ fraction: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let rank = Int((fraction * Double(sorted.count)).rounded(.up))
        let seconds = sorted[min(sorted.count - 1, max(0, rank - 1))]
        return (seconds * 1_000_000).rounded() / 1000
    }

    private enum CodingKeys: String, CodingKey {
        case connectP50 = "connect_p50_ms", connectP99 = "connect_p99_ms", failing
    }

    /// The `/backends` keys and these, in one object.
    func encode(to encoder: any Encoder) throws {
        try report.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(connectP50, forKey: .connectP50)
        try container.encode(connectP99, forKey: .connectP99)
        try container.encode(failing, forKey: .failing)
    }
}
