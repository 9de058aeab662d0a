import Dispatch
import Foundation
import PosternAdmin

/// Answers admin requests from the server's state: routes (`AdminRouter`), checks access (`AdminAccess`),
/// and builds each endpoint's answer. Answers that need the sessions gather them from every shard without
/// blocking a queue and come back on `queue`.
struct AdminService: Sendable {
    let server: Server
    /// Whether the admin listener is on a loopback address (decides access when no token is configured).
    let loopback: Bool

    func answer(
        _ request: AdminHTTPRequest, on queue: DispatchQueue,
        completion: @escaping @Sendable (AdminHTTPResponse) -> Void
    ) {
        let route: AdminRoute
        switch AdminRouter.route(request) {
        case .failure(let refusal): return completion(refusal.response)
        case .success(let found): route = found
        }
        let access = AdminAccess.decide(
            route: route, token: server.currentRuntime.adminToken, presented: request.bearerToken, loopback: loopback)
        if let refusal = access.response { return completion(refusal) }
        if request.method == .post, AdminOriginCheck.isCrossSite(request) {
            return completion(AdminOriginCheck.refusal)
        }
        switch route {
        case .healthz:
            completion(.json(.ok, AdminJSON.encode(["status": "alive"])))
        case .health:
            completion(server.isDraining ? .text(.serviceUnavailable, "stopping\n") : .text(.ok, "ok\n"))
        case .readyz:
            let report = readiness()
            completion(.json(report.isReady ? .ok : .serviceUnavailable, AdminJSON.encode(report)))
        case .metrics:
            completion(
                AdminHTTPResponse(
                    status: .ok, contentType: "text/plain; version=0.0.4; charset=utf-8", body: server.stats.render()))
        case .sessions(let filter):
            server.sessionDirectory.snapshots(matching: filter, on: queue) {
                completion(.json(.ok, AdminJSON.encode($0)))
            }
        case .kick(let filter):
            server.sessionDirectory.kick(matching: filter, on: queue) { count in
                completion(.json(.ok, AdminJSON.encode(["kicked": count])))
            }
        case .backends:
            backends(on: queue, completion: completion)
        case .drain(let backend):
            let changed = server.backends.drain(backend)
            completion(.json(.ok, AdminJSON.encode(DrainAnswer(backend: backend, drained: true, changed: changed))))
        case .undrain(let backend):
            let changed = server.backends.undrain(backend)
            completion(.json(.ok, AdminJSON.encode(DrainAnswer(backend: backend, drained: false, changed: changed))))
        case .statusPage:
            completion(StatusPage.response)
        case .status:
            status(on: queue, completion: completion)
        }
    }

    /// `/readyz` from the server's status and the map sources of the configuration in service.
    func readiness() -> ReadinessReport {
        let runtime = server.currentRuntime
        let bound = server.boundListeners.mapValues { $0.map(\.description) }
        let sources = runtime.mapSources.map { source in
            let health = source.health()
            return ReadinessReport.Source(
                name: source.name, kind: source.kind, reachable: health.reachable, lastError: health.lastError)
        }
        return ReadinessReport(
            configured: runtime.config.listeners.map(\.name), bound: bound, draining: server.isDraining,
            lastReload: server.lastReload, sources: sources, generation: server.generation)
    }

    private func backends(on queue: DispatchQueue, completion: @escaping @Sendable (AdminHTTPResponse) -> Void) {
        let breaker = server.currentRuntime.breaker.states()
        let registry = server.backends
        server.sessionDirectory.snapshots(matching: SessionFilter(), on: queue) { sessions in
            let report = BackendReport.build(
                breaker: breaker, records: registry.records(), sessions: sessions, drained: registry.drained)
            completion(.json(.ok, AdminJSON.encode(report)))
        }
    }
}

/// The answer of a drain or undrain: the backend, its state now, and whether the request changed it.
struct DrainAnswer: Sendable, Encodable {
    let backend: String
    let drained: Bool
    let changed: Bool
}
