import PosternSync

/// Remembers backends that could not be connected to, shared by every session: after `failures`
/// consecutive failures a backend is skipped for `backoff` seconds. When the time is up, one session
/// tries it again (half-open); a success closes the breaker, a failure opens it for another period.
public final class CircuitBreaker: Sendable {
    /// What the breaker says about one backend.
    public enum Verdict: Sendable, Equatable {
        case closed
        /// Skip it: open until this time (of the breaker's clock).
        case open(until: Double)
    }

    struct Backend {
        var failures = 0
        var openUntil: Double? = nil
    }

    public let failureThreshold: Int
    public let backoff: Double
    private let clock: any MapClock
    private let state = Mutex<[String: Backend]>([:])

    public init(failures: Int = 1, backoff: Double = 30, clock: any MapClock = SystemClock()) {
        self.failureThreshold = max(1, failures)
        self.backoff = backoff
        self.clock = clock
    }

    /// Whether `backend` (its `host:port`) is to be skipped now.
    public func verdict(_ backend: String) -> Verdict {
        guard backoff > 0 else { return .closed }
        let now = clock.now()
        return state.withLock { state in
            guard let until = state[backend]?.openUntil, now < until else { return .closed }
            return .open(until: until)
        }
    }

    /// Seconds until `backend` may be tried again; 0 when it may be tried now.
    public func remaining(_ backend: String) -> Double {
        if case .open(let until) = verdict(backend) { return max(0, until - clock.now()) }
        return 0
    }

    /// A connect failure. Returns true when this failure opened the breaker.
    @discardableResult
    public func recordFailure(_ backend: String) -> Bool {
        guard backoff > 0 else { return false }
        let now = clock.now()
        return state.withLock { state in
            var entry = state[backend] ?? Backend()
            entry.failures += 1
            var opened = false
            if entry.failures >= failureThreshold {
                opened = entry.openUntil.map { now >= $0 } ?? true
                entry.openUntil = now + backoff
            }
            state[backend] = entry
            return opened
        }
    }

    /// A successful connect: the backend is healthy again.
    public func recordSuccess(_ backend: String) {
        _ = state.withLock { $0.removeValue(forKey: backend) }
    }

    /// What the breaker holds about one backend, for the admin API.
    public struct State: Sendable, Equatable {
        /// Connect failures since its last success.
        public var failures: Int
        /// Seconds until it may be tried again while open; nil while closed.
        public var retryIn: Double?

        public init(failures: Int, retryIn: Double?) {
            self.failures = failures
            self.retryIn = retryIn
        }
    }

    /// Every backend with a failure since its last success.
    public func states() -> [String: State] {
        let now = clock.now()
        return state.withLock { state in
            state.mapValues { entry in
                let open = entry.openUntil.flatMap { $0 > now ? $0 - now : nil }
                return State(failures: entry.failures, retryIn: backoff > 0 ? open : nil)
            }
        }
    }

    /// Whether a candidate should be skipped: its breaker is open and some later candidate's is not.
    public func shouldSkip(_ backend: String, remaining others: [String]) -> Bool {
        guard case .open = verdict(backend) else { return false }
        return others.contains { verdict($0) == .closed }
    }
}
