import Foundation
import PosternMap

/// One backend as `GET /backends` shows it: its circuit breaker, its recent connect failures, its sessions
/// now, and whether an operator drained it.
struct BackendReport: Sendable, Equatable, Encodable {
    let backend: String
    /// `closed` or `open`.
    let breaker: String
    /// Seconds until an open breaker lets a login try it again (rounded up); nil while closed.
    let retryIn: Int?
    /// Connect failures since its last success (what the breaker counts).
    let consecutiveFailures: Int
    /// Connect failures in the last `BackendRegistry.failureWindow` seconds.
    let recentFailures: Int
    let lastError: String?
    let lastFailure: Date?
    let lastSuccess: Date?
    /// Sessions logging in to it or relayed to it now.
    let sessions: Int
    let drained: Bool

    /// Every backend seen: dialled (records), held by the breaker, used by a session now, or drained; sorted.
    static func build(
        breaker: [String: CircuitBreaker.State], records: [String: BackendRecord], sessions: [SessionSnapshot],
        drained: Set<String>
    ) -> [BackendReport] {
        var names: [String: String] = [:]
        func note(_ label: String) { names[label.lowercased()] = names[label.lowercased()] ?? label }
        breaker.keys.forEach(note)
        records.keys.forEach(note)
        drained.forEach(note)
        var counts: [String: Int] = [:]
        for session in sessions where session.state != "login" {
            guard let backend = session.backend else { continue }
            note(backend)
            counts[backend.lowercased(), default: 0] += 1
        }
        let folded = (
            breaker: Dictionary(breaker.map { ($0.key.lowercased(), $0.value) }) { first, _ in first },
            records: Dictionary(records.map { ($0.key.lowercased(), $0.value) }) { first, _ in first }
        )
        return names.keys.sorted().map { key in
            let state = folded.breaker[key]
            let record = folded.records[key]
            return BackendReport(
                backend: names[key] ?? key, breaker: state?.retryIn == nil ? "closed" : "open",
                retryIn: state?.retryIn.map { Int($0.rounded(.up)) }, consecutiveFailures: state?.failures ?? 0,
                recentFailures: record?.failures.count ?? 0, lastError: record?.lastError,
                lastFailure: record?.lastFailureAt.map { Date(timeIntervalSince1970: $0) },
                lastSuccess: record?.lastSuccessAt.map { Date(timeIntervalSince1970: $0) },
                sessions: counts[key] ?? 0, drained: drained.contains(key))
        }
    }

    private enum CodingKeys: String, CodingKey {
        case backend, breaker, retryIn = "retry_in_s", consecutiveFailures = "consecutive_failures"
        case recentFailures = "recent_failures", lastError = "last_error", lastFailure = "last_failure"
        case lastSuccess = "last_success", sessions, drained
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(backend, forKey: .backend)
        try container.encode(breaker, forKey: .breaker)
        try container.encode(retryIn, forKey: .retryIn)
        try container.encode(consecutiveFailures, forKey: .consecutiveFailures)
        try container.encode(recentFailures, forKey: .recentFailures)
        try container.encode(lastError, forKey: .lastError)
        try container.encode(lastFailure.map(AdminJSON.timestamp), forKey: .lastFailure)
        try container.encode(lastSuccess.map(AdminJSON.timestamp), forKey: .lastSuccess)
        try container.encode(sessions, forKey: .sessions)
        try container.encode(drained, forKey: .drained)
    }
}
