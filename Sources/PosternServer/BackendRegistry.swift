import Foundation
import PosternSync

/// The backends as the whole server sees them, across reloads: those an operator drained (new logins try
/// them last) and, for each backend dialled, its recent connect failures. Shared by every session.
public final class BackendRegistry: Sendable {
    /// Connect failures older than this many seconds are not "recent".
    static let failureWindow: Double = 300
    /// At most this many failure times per backend.
    static let failureTimes = 64
    /// At most this many backends are remembered; the least recently dialled is forgotten first.
    static let capacity = 4096
    /// At most this many connect times per backend (the status page's p50 and p99).
    static let latencySamples = 128

    private struct State {
        var drained: Set<String> = []
        var records: [String: BackendRecord] = [:]
    }

    private let state = Mutex(State())
    /// The size of the drained set, read without the lock by every login.
    private let drainedCount = Atomic<Int>(0)
    private let clock: @Sendable () -> Double

    public convenience init() {
        self.init(clock: { Date().timeIntervalSince1970 })
    }

    /// `clock` gives Unix seconds (tests pass their own).
    init(clock: @escaping @Sendable () -> Double) {
        self.clock = clock
    }

    // MARK: Drain

    /// Marks `backend` (`host:port`) as drained; false if it already was.
    @discardableResult
    public func drain(_ backend: String) -> Bool {
        state.withLock { state in
            let inserted = state.drained.insert(backend).inserted
            drainedCount.store(state.drained.count, ordering: .relaxed)
            return inserted
        }
    }

    /// Takes `backend` out of the drained set; false if it was not in it.
    @discardableResult
    public func undrain(_ backend: String) -> Bool {
        state.withLock { state in
            let removed = state.drained.remove(backend) != nil
            drainedCount.store(state.drained.count, ordering: .relaxed)
            return removed
        }
    }

    /// The drained backends (empty without a lock when none is).
    public var drained: Set<String> {
        guard drainedCount.load(ordering: .relaxed) > 0 else { return [] }
        return state.withLock { $0.drained }
    }

    // MARK: Connect results

    /// A connection to `backend` failed (refused, unreachable, timed out, no greeting).
    func recordFailure(_ backend: String, error: String) {
        let now = clock()
        state.withLock { state in
            var record = state.records[backend] ?? BackendRecord()
            record.failures = record.failures.filter { now - $0 < BackendRegistry.failureWindow }
            record.failures.append(now)
            if record.failures.count > BackendRegistry.failureTimes { record.failures.removeFirst() }
            record.lastError = error
            record.lastFailureAt = now
            record.lastSeen = now
            store(record, for: backend, in: &state)
        }
    }

    /// `backend` answered (it greeted).
    func recordSuccess(_ backend: String) {
        let now = clock()
        state.withLock { state in
            var record = state.records[backend] ?? BackendRecord()
            record.lastSuccessAt = now
            record.lastSeen = now
            store(record, for: backend, in: &state)
        }
    }

    /// A TCP connection to `backend` opened after `seconds`.
    func recordConnectTime(_ backend: String, seconds: Double) {
        let now = clock()
        state.withLock { state in
            var record = state.records[backend] ?? BackendRecord()
            record.connectSeconds.append(seconds)
            record.lastSeen = now
            store(record, for: backend, in: &state)
        }
    }

    private func store(_ record: BackendRecord, for backend: String, in state: inout State) {
        if state.records[backend] == nil, state.records.count >= BackendRegistry.capacity,
            let oldest = state.records.min(by: { $0.value.lastSeen < $1.value.lastSeen })?.key
        {
            state.records.removeValue(forKey: oldest)
        }
        state.records[backend] = record
    }

    /// Every backend remembered, with its failures pruned to the recent ones.
    func records() -> [String: BackendRecord] {
        let now = clock()
        return state.withLock { state in
            state.records.mapValues { record in
                var record = record
                record.failures = record.failures.filter { now - $0 < BackendRegistry.failureWindow }
                return record
            }
        }
    }

    /// Unix seconds now, on this registry's clock.
    var now: Double { clock() }
}
