import Foundation
import PosternConfig
import PosternMap
import PosternProcess

/// The answer of `GET /status.json`: everything the status page shows, built from the snapshots the admin API
/// takes anyway (sessions, backends, breaker) and the history ring. Pure: no server state is read here.
struct StatusReport: Sendable, Encodable {
    /// What `build` reads, gathered by `AdminService`.
    struct Inputs: Sendable {
        var now: Double
        var startedAt: Double
        var generation: Int
        var draining: Bool
        var lastReload: ReloadRecord?
        /// `token` (actions need the bearer token) or `open` (a loopback listener without a token).
        var access: String
        var listeners: [ListenerConfig]
        var bound: [String: [String]]
        var tls: [String: StatusTLSPosture]
        var sessions: [SessionSnapshot]
        var breaker: [String: CircuitBreaker.State]
        var records: [String: BackendRecord]
        var drained: Set<String>
        var samples: [StatusSample]
        var logins: [String: LoginCounts]
    }

    /// The process line.
    struct Process: Sendable, Encodable {
        let version: String
        let started: String
        let uptime: Int
        let generation: Int
        let draining: Bool
        let lastReload: ReloadRecord?
        let access: String

        private enum CodingKeys: String, CodingKey {
            case version, started, uptime = "uptime_s", generation, draining, lastReload = "last_reload", access
        }
        private enum ReloadKeys: String, CodingKey { case generation, at, succeeded, errors, attempt }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(version, forKey: .version)
            try container.encode(started, forKey: .started)
            try container.encode(uptime, forKey: .uptime)
            try container.encode(generation, forKey: .generation)
            try container.encode(draining, forKey: .draining)
            try container.encode(access, forKey: .access)
            guard let lastReload else { return try container.encodeNil(forKey: .lastReload) }
            var reload = container.nestedContainer(keyedBy: ReloadKeys.self, forKey: .lastReload)
            try reload.encode(lastReload.generation, forKey: .generation)
            try reload.encode(AdminJSON.timestamp(lastReload.at), forKey: .at)
            try reload.encode(lastReload.succeeded, forKey: .succeeded)
            try reload.encode(lastReload.errors, forKey: .errors)
            try reload.encode(lastReload.attempt, forKey: .attempt)
        }
    }

    /// One chart point: sessions open at `t`, and logins per second since the sample before.
    struct Point: Sendable, Equatable, Encodable {
        let t: Double
        let sessions: Int
        let loginsOK: Double
        let loginsFailed: Double

        private enum CodingKeys: String, CodingKey {
            case t, sessions, loginsOK = "logins_ok", loginsFailed = "logins_failed"
        }
    }

    /// At most this many sessions are listed (the newest); `sessions_total` counts them all.
    static let sessionLimit = 500

    let process: Process
    let listeners: [StatusListenerReport]
    let backends: [StatusBackendReport]
    let history: [Point]
    let interval: Int
    let sessions: [SessionSnapshot]
    let sessionsTotal: Int

    private enum CodingKeys: String, CodingKey {
        case process, listeners, backends, history, interval = "history_interval_s", sessions
        case sessionsTotal = "sessions_total"
    }

    static func build(_ inputs: Inputs, sessionLimit: Int = StatusReport.sessionLimit) -> StatusReport {
        let process = Process(
            version: BuildInfo.version, started: AdminJSON.timestamp(Date(timeIntervalSince1970: inputs.startedAt)),
            uptime: max(0, Int(inputs.now - inputs.startedAt)), generation: inputs.generation,
            draining: inputs.draining, lastReload: inputs.lastReload, access: inputs.access)
        // Logins of the last minute: now's totals less those of the newest sample a minute old (or the oldest).
        let base =
            inputs.samples.last { $0.at <= inputs.now - 60 } ?? inputs.samples.first
        let window = max(0, Int((inputs.now - (base?.at ?? inputs.startedAt)).rounded()))
        var perListener: [String: Int] = [:]
        for session in inputs.sessions { perListener[session.listener, default: 0] += 1 }
        let listeners = inputs.listeners.map { listener in
            let now = inputs.logins[listener.name] ?? LoginCounts()
            let then = base?.logins[listener.name] ?? LoginCounts()
            return StatusListenerReport(
                listener, bound: inputs.bound[listener.name], sessions: perListener[listener.name] ?? 0,
                logins: now.since(then), loginWindow: window, tlsPosture: inputs.tls[listener.name])
        }
        let folded = Dictionary(inputs.records.map { ($0.key.lowercased(), $0.value) }) { first, _ in first }
        let backends = BackendReport.build(
            breaker: inputs.breaker, records: inputs.records, sessions: inputs.sessions, drained: inputs.drained
        ).map { report in
            StatusBackendReport(
                report, connectSeconds: folded[report.backend.lowercased()]?.connectSeconds.elements ?? [])
        }
        let newest = inputs.sessions.sorted { ($0.started, $0.id) > ($1.started, $1.id) }.prefix(sessionLimit)
        return StatusReport(
            process: process, listeners: listeners, backends: backends, history: points(inputs.samples),
            interval: StatusHistory.interval, sessions: Array(newest), sessionsTotal: inputs.sessions.count)
    }

    /// A point for each sample after the first: its sessions, and the login rates since the one before.
    static func points(_ samples: [StatusSample]) -> [Point] {
        zip(samples, samples.dropFirst()).map { before, after in
            let seconds = max(after.at - before.at, 0.001)
            let delta = LoginCounts.sum(after.logins.map { $0.value.since(before.logins[$0.key] ?? LoginCounts()) })
            return Point(
                t: after.at, sessions: after.sessions, loginsOK: rate(delta[.ok], seconds),
                loginsFailed: rate(delta.failed, seconds))
        }
    }

    private static func rate(_ count: Int, _ seconds: Double) -> Double {
        (Double(count) / seconds * 1000).rounded() / 1000
    }
}
