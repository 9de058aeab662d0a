import Logging
import PosternMap

/// Drained backends in a login's failover order: an operator drained them (`POST /backends/drain`), so new
/// logins go to the route's other candidates first and to a drained one only when every other failed.
extension Runtime {
    /// Moves the drained candidates behind the others (keeping each group's order); a route with only
    /// drained candidates keeps its order. Returns the labels moved (for the log and tests).
    @discardableResult
    func deferDrainedBackends(
        _ candidates: inout [BackendAddress], drained: Set<String>, defaultPort: Int, session: String, logger: Logger
    ) -> [String] {
        guard !drained.isEmpty, candidates.count > 1 else { return [] }
        let isDrained = candidates.map { drained.contains(backendLabel($0, defaultPort: defaultPort).lowercased()) }
        guard isDrained.contains(true), isDrained.contains(false) else { return [] }
        var active: [BackendAddress] = []
        var deferred: [BackendAddress] = []
        for (candidate, drained) in zip(candidates, isDrained) {
            if drained {
                deferred.append(candidate)
            } else {
                active.append(candidate)
            }
        }
        candidates = active + deferred
        let labels = deferred.map { backendLabel($0, defaultPort: defaultPort) }
        logger.debug(
            "drained backends tried last",
            metadata: ["session": "\(session)", "backends": "\(labels.joined(separator: ","))"])
        return labels
    }
}
