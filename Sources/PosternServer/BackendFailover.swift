import Logging
import PosternMap

/// The circuit breaker's part in a session's failover: skip backends that failed recently, and
/// record each connect failure and success. Shared by every session of a runtime.
extension Runtime {
    /// The backend label (`host:port`) a map entry stands for on a listener.
    func backendLabel(_ server: BackendAddress, defaultPort: Int) -> String {
        BackendAddress(host: server.host, port: server.port ?? defaultPort).description
    }

    /// Drops leading candidates whose breaker is open while a later candidate's is not (logged, counted).
    func skipOpenBackends(_ candidates: inout [BackendAddress], defaultPort: Int, session: String, logger: Logger) {
        while let first = candidates.first {
            let label = backendLabel(first, defaultPort: defaultPort)
            let others = candidates.dropFirst().map { backendLabel($0, defaultPort: defaultPort) }
            guard breaker.shouldSkip(label, remaining: others) else { return }
            candidates.removeFirst()
            mapMetrics.count("postern_backend_skipped_total", [("backend", backendMetricLabel(label))])
            logger.info(
                "backend skipped (circuit open)",
                metadata: [
                    "session": "\(session)", "backend": "\(label)",
                    "retry_in_s": "\(Int(breaker.remaining(label).rounded(.up)))",
                ])
        }
    }

    /// A backend could not be connected to (refused, unreachable, timeout).
    func recordConnectFailure(_ label: String, session: String, logger: Logger) {
        if breaker.recordFailure(label) {
            mapMetrics.count("postern_backend_breaker_opened_total", [("backend", backendMetricLabel(label))])
            logger.warning(
                "backend circuit opened",
                metadata: ["session": "\(session)", "backend": "\(label)", "backoff_s": "\(breaker.backoff)"])
        }
    }

    /// A backend accepted a connection.
    func recordConnectSuccess(_ label: String) {
        breaker.recordSuccess(label)
    }
}
