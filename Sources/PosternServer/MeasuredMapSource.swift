import Dispatch
import Foundation
import PosternMap
import PosternSync

/// One map source (a file, a regex file, the directory) with its lookups timed
/// (`postern_map_lookup_duration_seconds{source}`) and its last failure kept for `/readyz`.
final class MeasuredMapSource: UserMap, Sendable {
    /// What `/readyz` says about a source: whether it answers, and its last failure.
    struct Health: Sendable, Equatable {
        var reachable: Bool
        var lastError: String?
        /// Wall-clock time of the last failure (Unix seconds).
        var lastErrorAt: Double?
    }

    /// A source whose last lookup failed within this many seconds counts as unreachable (after that, with no
    /// lookup since, it counts as reachable again: a probe that never lets logins in could not tell otherwise).
    static let failureMemory: Double = 30

    let source: any UserMap
    /// `file`, `regex` or `ldap`: the metric's label.
    let kind: String
    /// What the decision trace calls it (`file /etc/postern/users.map`).
    let name: String
    /// The servers a file map names (for the bounded `backend` labels); empty for other sources.
    let listedServers: Set<BackendAddress>
    private let metrics: MapMetricsSink
    private let failure = Mutex<(message: String, at: Double)?>(nil)
    /// Whether `failure` holds one: a success takes the lock only to clear it.
    private let hasFailure = Atomic<Bool>(false)

    init(_ source: any UserMap, kind: String, name: String, metrics: MapMetricsSink) {
        self.source = source
        self.kind = kind
        self.name = name
        self.metrics = metrics
        listedServers = (source as? FileMap)?.servers ?? []
    }

    func lookup(_ query: MapQuery) async throws -> Route? {
        let started = DispatchTime.now().uptimeNanoseconds
        do {
            let route = try await source.lookup(query)
            finished(since: started, error: nil)
            return route
        } catch {
            finished(since: started, error: error)
            throw error
        }
    }

    /// At once when the source answers at once; timed like `lookup` (a source that must be asked is not).
    func immediateLookup(_ query: MapQuery) throws -> ImmediateLookup {
        let started = DispatchTime.now().uptimeNanoseconds
        do {
            let answer = try source.immediateLookup(query)
            if case .answered = answer { finished(since: started, error: nil) }
            return answer
        } catch {
            finished(since: started, error: error)
            throw error
        }
    }

    private func finished(since started: UInt64, error: (any Error)?) {
        let elapsed = DispatchTime.now().uptimeNanoseconds &- started
        metrics.lookupDuration(kind, Double(elapsed) / 1e9)
        if let error {
            let text = "\(error)"
            let now = Date().timeIntervalSince1970
            failure.withLock { $0 = (text, now) }
            hasFailure.store(true, ordering: .relaxed)
        } else if hasFailure.load(ordering: .relaxed) {
            failure.withLock { $0 = nil }
            hasFailure.store(false, ordering: .relaxed)
        }
    }

    /// Reachable unless the last lookup failed less than `failureMemory` seconds before `now` (Unix seconds).
    func health(now: Double = Date().timeIntervalSince1970) -> Health {
        guard let last = failure.withLock({ $0 }) else { return Health(reachable: true) }
        return Health(
            reachable: now - last.at >= MeasuredMapSource.failureMemory, lastError: last.message, lastErrorAt: last.at)
    }
}
