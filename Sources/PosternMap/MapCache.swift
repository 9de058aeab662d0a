import Foundation
import PosternSync

/// A source of the current time in seconds; tests inject their own.
public protocol MapClock: Sendable {
    func now() -> Double
}

/// Monotonic time since boot (not affected by wall-clock changes).
public struct SystemClock: MapClock {
    public init() {}
    public func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}

/// Where the map reports counters (`postern_map_*_total`); the server wires it to its metrics.
public struct MapMetricsSink: Sendable {
    public var count: @Sendable (_ label: String, _ dimensions: [(String, String)]) -> Void
    /// How long one map source (`file`, `regex`, `ldap`) took to answer a lookup.
    public var lookupDuration: @Sendable (_ source: String, _ seconds: Double) -> Void
    public init(
        count: @escaping @Sendable (_ label: String, _ dimensions: [(String, String)]) -> Void,
        lookupDuration: @escaping @Sendable (_ source: String, _ seconds: Double) -> Void = { _, _ in }
    ) {
        self.count = count
        self.lookupDuration = lookupDuration
    }
    /// Drops everything.
    public static let none = MapMetricsSink { _, _ in }
}

/// Remembered lookup results: positive and negative TTLs, a size bound, and stale positives for errors.
public final class MapCache: Sendable {
    public struct Settings: Sendable, Equatable {
        public var ttl: Double
        public var negativeTTL: Double
        /// How long past its TTL a positive entry may stand in while the source fails.
        public var staleTTL: Double
        public var capacity: Int
        public init(ttl: Double, negativeTTL: Double, staleTTL: Double, capacity: Int) {
            self.ttl = ttl
            self.negativeTTL = negativeTTL
            self.staleTTL = staleTTL
            self.capacity = max(1, capacity)
        }
    }

    /// What the cache knows about a key.
    public enum Lookup: Sendable, Equatable {
        case fresh(Route?)
        case miss
    }

    struct Entry {
        var route: Route?
        var storedAt: Double
        var serial: UInt64
    }

    struct State {
        var entries: [String: Entry] = [:]
        /// Keys in insertion order with the serial they were stored with (older serials are dead).
        var order: [(key: String, serial: UInt64)] = []
        var head = 0
        var serial: UInt64 = 0
    }

    public let settings: Settings
    private let clock: any MapClock
    private let state = Mutex(State())

    public init(_ settings: Settings, clock: any MapClock = SystemClock()) {
        self.settings = settings
        self.clock = clock
    }

    public var count: Int { state.withLock { $0.entries.count } }

    /// A fresh entry (within its TTL), or a miss.
    public func fresh(_ key: String) -> Lookup {
        let now = clock.now()
        return state.withLock { state in
            guard let entry = state.entries[key] else { return .miss }
            let ttl = entry.route == nil ? settings.negativeTTL : settings.ttl
            return now < entry.storedAt + ttl ? .fresh(entry.route) : .miss
        }
    }

    /// A positive entry past its TTL but within the stale limit, for when the source fails.
    public func stale(_ key: String) -> (route: Route, age: Double)? {
        let now = clock.now()
        return state.withLock { state in
            guard let entry = state.entries[key], let route = entry.route else { return nil }
            guard now < entry.storedAt + settings.ttl + settings.staleTTL else { return nil }
            return (route, now - entry.storedAt)
        }
    }

    /// Stores a result; returns how many entries were evicted to stay within the size bound.
    @discardableResult
    public func store(_ key: String, _ route: Route?) -> Int {
        let now = clock.now()
        if route == nil && settings.negativeTTL <= 0 { return 0 }
        return state.withLock { state in
            state.serial += 1
            var evicted = 0
            if state.entries[key] == nil && state.entries.count >= settings.capacity {
                evicted = evict(&state, now: now)
            }
            state.entries[key] = Entry(route: route, storedAt: now, serial: state.serial)
            state.order.append((key, state.serial))
            compact(&state)
            return evicted
        }
    }

    /// Drops the entry stored longest ago (it is also the first to expire): O(1) amortized.
    private func evict(_ state: inout State, now: Double) -> Int {
        while state.head < state.order.count {
            let (key, serial) = state.order[state.head]
            state.head += 1
            if state.entries[key]?.serial == serial {
                state.entries.removeValue(forKey: key)
                return 1
            }
        }
        return 0
    }

    /// Keeps the insertion-order list from growing without bound.
    private func compact(_ state: inout State) {
        guard state.order.count > 64, state.order.count > 2 * state.entries.count || state.head > state.order.count / 2
        else { return }
        let live = state.order[state.head...].filter { state.entries[$0.key]?.serial == $0.serial }
        state.order = Array(live)
        state.head = 0
    }
}

/// A map source behind a cache: fresh entries answer at once; when the source fails, a stale positive
/// entry (within the stale limit) is used instead of failing.
public struct CachedMap: UserMap {
    public let source: any UserMap
    public let cache: MapCache
    /// Whether the client IP is part of the cache key (when a template uses it).
    public let keyByClientIP: Bool
    public let metrics: MapMetricsSink

    public init(source: any UserMap, cache: MapCache, keyByClientIP: Bool = false, metrics: MapMetricsSink = .none) {
        self.source = source
        self.cache = cache
        self.keyByClientIP = keyByClientIP
        self.metrics = metrics
    }

    func key(_ query: MapQuery) -> String {
        keyByClientIP ? "\(query.user)\u{0}\(query.clientIP ?? "")" : query.user
    }

    public func lookup(_ query: MapQuery) async throws -> Route? {
        let key = key(query)
        if case .fresh(let route) = cache.fresh(key) { return hit(route, query) }
        query.note("cache: miss")
        do {
            return stored(key, try await source.lookup(query))
        } catch {
            return try stale(key, error, query)
        }
    }

    /// At once for a fresh entry, and on a miss when the source answers at once.
    public func immediateLookup(_ query: MapQuery) throws -> ImmediateLookup {
        let key = key(query)
        if case .fresh(let route) = cache.fresh(key) { return .answered(hit(route, query)) }
        let answer: ImmediateLookup
        do {
            answer = try source.immediateLookup(query)
        } catch {
            query.note("cache: miss")
            return .answered(try stale(key, error, query))
        }
        guard case .answered(let route) = answer else { return .mustAsk }
        query.note("cache: miss")
        return .answered(stored(key, route))
    }

    private func hit(_ route: Route?, _ query: MapQuery) -> Route? {
        metrics.count("postern_map_cache_total", [("result", route == nil ? "negative-hit" : "hit")])
        query.note("cache: hit (\(route == nil ? "negative" : "positive"))")
        return route.map { Route(servers: $0.servers, reason: "\($0.reason), cached", backendUser: $0.backendUser) }
    }

    private func stored(_ key: String, _ route: Route?) -> Route? {
        metrics.count("postern_map_cache_total", [("result", "miss")])
        let evicted = cache.store(key, route)
        if evicted > 0 { metrics.count("postern_map_cache_evictions_total", []) }
        return route
    }

    /// The source failed: a stale positive entry within the limit, else the error.
    private func stale(_ key: String, _ error: any Error, _ query: MapQuery) throws -> Route? {
        guard let (route, age) = cache.stale(key) else {
            metrics.count("postern_map_cache_total", [("result", "error")])
            throw error
        }
        metrics.count("postern_map_cache_total", [("result", "stale")])
        query.note("cache: source failed (\(error)); using a stale entry, \(Int(age)) s old")
        return Route(
            servers: route.servers, reason: "\(route.reason), stale (\(Int(age)) s old)",
            backendUser: route.backendUser)
    }
}
