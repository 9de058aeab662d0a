/// What the server remembers about one backend it dialled, for `/backends`: its recent connect failures
/// (Unix times, at most `BackendRegistry.failureTimes`, none older than `BackendRegistry.failureWindow`)
/// and the last error and success.
struct BackendRecord: Sendable, Equatable {
    var failures: [Double] = []
    var lastError: String?
    var lastFailureAt: Double?
    var lastSuccessAt: Double?
    /// When it was last dialled (to forget the least recent first).
    var lastSeen: Double = 0
}
