import Dispatch
import Foundation
import PosternAdmin

/// `GET /status.json`: one snapshot of the sessions (the same the `/sessions` and `/backends` answers take),
/// the breaker, the backend records, the history ring and the login tally, put together by `StatusReport`.
extension AdminService {
    func status(on queue: DispatchQueue, completion: @escaping @Sendable (AdminHTTPResponse) -> Void) {
        let server = self.server
        let runtime = server.currentRuntime
        let breaker = runtime.breaker.states()
        server.sessionDirectory.snapshots(matching: SessionFilter(), on: queue) { sessions in
            let now = Date().timeIntervalSince1970
            var tls: [String: StatusTLSPosture] = [:]
            for listener in runtime.config.listeners {
                guard let report = runtime.serverTLS(for: listener.name)?.policyReport else { continue }
                tls[listener.name] = StatusTLSPosture(report, now: now)
            }
            let inputs = StatusReport.Inputs(
                now: now, startedAt: server.statusHistory.startedAt, generation: runtime.generation,
                draining: server.isDraining, lastReload: server.lastReload,
                access: runtime.adminToken == nil ? "open" : "token", listeners: runtime.config.listeners,
                bound: server.boundListeners.mapValues { $0.map(\.description) }, tls: tls, sessions: sessions,
                breaker: breaker, records: server.backends.records(), drained: server.backends.drained,
                samples: server.statusHistory.samples, logins: server.stats.loginTally.snapshot())
            completion(.json(.ok, AdminJSON.encode(StatusReport.build(inputs))))
        }
    }
}
