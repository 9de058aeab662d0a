/// What the server remembers about one backend it dialled, for `/backends`: its recent connect failures
/// (Unix times, at most `BackendRegistry.failureTimes`, none older than `BackendRegistry.failureWindow`)
/// and the last error and success.
struct BackendRecord: Sendable, Equatable {
    var failures: [Double] = []
    var lastError: String?
    var lastFailureAt: Double?
    var lastSuccessAt: Double?
    /// The last connect times in seconds (at most `BackendRegistry.latencySamples`), for the status page.
    var connectSeconds: StatusRing<Double> = StatusRing(capacity: BackendRegistry.latencySamples)
    /// When it was last dialled (to forget the least recent first).
    var lastSeen: Double = 0
}
