import Dispatch
import PosternSync

/// Resolves backend names off the event loop: at most `maxConcurrent` blocking lookups at once, each on a
/// serial queue of its own (never the shared global pool), with a small TTL cache; numeric addresses are
/// parsed without a lookup. Completions run on the caller's queue, never inside `resolve`.
public final class Resolver: Sendable {
    /// A blocking name lookup (`getaddrinfo` in production, a fake in tests).
    public typealias Lookup = @Sendable (_ host: String, _ port: Int) -> Result<[SocketAddress], IOError>
    /// Monotonic seconds, for the cache's expiry.
    public typealias Clock = @Sendable () -> Double
    public typealias Completion = @Sendable (Result<[SocketAddress], IOError>) -> Void

    /// The process-wide resolver with the default limits.
    public static let shared = Resolver()

    /// Seconds an answer is reused.
    public let ttl: Double
    /// Seconds a failed lookup is remembered (so a dead name is not looked up for every login).
    public let failureTTL: Double
    /// Names (host and port) kept at most; the one closest to expiry goes first.
    public let maxEntries: Int
    /// Lookups that may run at once.
    public let maxConcurrent: Int
    /// Distinct names that may wait for a free lookup; more fail at once with `.localResource`.
    public let maxQueued: Int

    private let clock: Clock
    private let lookup: Lookup
    private let lanes: [DispatchQueue]
    private let state = Mutex(State())

    struct Key: Hashable {
        var host: String
        var port: Int
    }

    private struct Entry {
        var result: Result<[SocketAddress], IOError>
        var expires: Double
    }

    private struct Waiter {
        var queue: DispatchQueue
        var completion: Completion
    }

    private struct State {
        var cache: [Key: Entry] = [:]
        /// Callers waiting for each name that is being looked up or queued.
        var waiting: [Key: [Waiter]] = [:]
        /// Names waiting for a free lane, oldest first.
        var queued: [Key] = []
        /// Lanes (indexes into `lanes`) with no lookup running.
        var freeLanes: [Int] = []
    }

    /// What `resolve` decided under the lock.
    private enum Decision {
        case answer(Result<[SocketAddress], IOError>)
        case start(lane: Int)
        case wait
    }

    /// A resolver whose answers live `ttl` seconds (failures `failureTTL`), with at most `maxEntries` names
    /// cached and `maxConcurrent` lookups running. `clock` and `lookup` are injectable for tests.
    public init(
        ttl: Double = 30, failureTTL: Double = 5, maxEntries: Int = 1024, maxConcurrent: Int = 2,
        maxQueued: Int = 1024, clock: @escaping Clock = Resolver.monotonicSeconds,
        lookup: @escaping Lookup = Resolver.systemLookup
    ) {
        self.ttl = ttl
        self.failureTTL = failureTTL
        self.maxEntries = max(0, maxEntries)
        self.maxConcurrent = max(1, maxConcurrent)
        self.maxQueued = max(0, maxQueued)
        self.clock = clock
        self.lookup = lookup
        self.lanes = (0..<self.maxConcurrent).map { DispatchQueue(label: "postern.resolver.\($0)") }
        let count = self.maxConcurrent
        state.withLock { $0.freeLanes = Array((0..<count).reversed()) }
    }

    /// Resolves `host` and `port`; `completion` runs on `shard.queue`.
    public func resolve(host: String, port: Int, on shard: EventShard, completion: @escaping Completion) {
        if let address = SocketAddress.numeric(host: host, port: port) {
            // Answered after the caller's event, on the same turn of the shard (`EventShard.soon`).
            shard.soon { completion(.success([address])) }
            return
        }
        resolve(host: host, port: port, on: shard.queue, completion: completion)
    }

    /// Resolves `host` and `port`; `completion` runs on `queue`. A numeric address is answered without a
    /// lookup; a cached answer (or failure) is reused until it expires; callers asking for a name that is
    /// being looked up share that lookup.
    public func resolve(host: String, port: Int, on queue: DispatchQueue, completion: @escaping Completion) {
        if let address = SocketAddress.numeric(host: host, port: port) {
            queue.async { completion(.success([address])) }
            return
        }
        let key = Key(host: host.lowercased(), port: port)
        let now = clock()
        let waiter = Waiter(queue: queue, completion: completion)
        let decision = state.withLock { state -> Decision in
            if let entry = state.cache[key] {
                if entry.expires > now { return .answer(entry.result) }
                state.cache.removeValue(forKey: key)
            }
            if state.waiting[key] != nil {
                state.waiting[key]?.append(waiter)
                return .wait
            }
            if let lane = state.freeLanes.popLast() {
                state.waiting[key] = [waiter]
                return .start(lane: lane)
            }
            guard state.queued.count < maxQueued else {
                return .answer(.failure(IOError(.localResource, "cannot resolve \(host): too many names waiting")))
            }
            state.waiting[key] = [waiter]
            state.queued.append(key)
            return .wait
        }
        switch decision {
        case .answer(let result): queue.async { completion(result) }
        case .start(let lane): run(key, lane: lane)
        case .wait: break
        }
    }

    /// Looks `key` up on `lane`, caches the answer, hands the lane to the next queued name, then answers.
    private func run(_ key: Key, lane: Int) {
        lanes[lane].async {
            let result = self.lookup(key.host, key.port)
            let expires = self.clock() + (self.isSuccess(result) ? self.ttl : self.failureTTL)
            let (waiters, next) = self.state.withLock { state -> ([Waiter], Key?) in
                self.store(result, expires: expires, for: key, in: &state)
                let waiters = state.waiting.removeValue(forKey: key) ?? []
                if state.queued.isEmpty {
                    state.freeLanes.append(lane)
                    return (waiters, nil)
                }
                return (waiters, state.queued.removeFirst())
            }
            if let next { self.run(next, lane: lane) }
            for waiter in waiters { waiter.queue.async { waiter.completion(result) } }
        }
    }

    private func isSuccess(_ result: Result<[SocketAddress], IOError>) -> Bool {
        if case .success = result { return true }
        return false
    }

    private func store(
        _ result: Result<[SocketAddress], IOError>, expires: Double, for key: Key, in state: inout State
    ) {
        let lifetime = isSuccess(result) ? ttl : failureTTL
        guard lifetime > 0, maxEntries > 0 else { return }
        if state.cache[key] == nil && state.cache.count >= maxEntries {
            let now = clock()
            state.cache = state.cache.filter { $0.value.expires > now }
            if state.cache.count >= maxEntries,
                let soonest = state.cache.min(by: { $0.value.expires < $1.value.expires })?.key
            {
                state.cache.removeValue(forKey: soonest)
            }
        }
        state.cache[key] = Entry(result: result, expires: expires)
    }

    // MARK: For tests and reports

    /// Lookups running now.
    var runningLookups: Int { state.withLock { maxConcurrent - $0.freeLanes.count } }
    /// Names waiting for a free lookup.
    var queuedLookups: Int { state.withLock { $0.queued.count } }
    /// Names in the cache (expired ones included until they are asked for or pushed out).
    var cachedNames: Int { state.withLock { $0.cache.count } }

    // MARK: Defaults

    /// Seconds since boot, from the monotonic clock.
    public static func monotonicSeconds() -> Double {
        Double(DispatchTime.now().uptimeNanoseconds) / 1_000_000_000
    }

    /// `getaddrinfo`, blocking.
    public static func systemLookup(host: String, port: Int) -> Result<[SocketAddress], IOError> {
        Result { () throws(IOError) in try SocketAddress.resolve(host: host, port: port) }
    }
}
