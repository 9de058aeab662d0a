import PosternConfig
import PosternMap
import PosternSync

/// Slows password guessing per client address without ever locking a user out.
///
/// - Each counted failed login raises the level of the client's address (IPv6: its /64); the answer to
///   that address's next login is held `initial * 2^(level-1)` seconds, at most `max`. The level drops
///   by one for each `quietPeriod` without a counted failure.
/// - Each (user name, client network) pair has a budget of counted failures; once spent, logins of that
///   name from that network are refused without asking the backend, until the count decays (one per
///   `budgetPeriod`). Failures on `alice` from an attacker's network never touch alice's own network.
/// - A failure with the same name and secret as a recent one from that address is not counted again
///   (a client retrying a stale password). Only a keyed SipHash-2-4 of name and secret is kept.
/// - Addresses in `trusted` are never delayed, refused or counted.
/// - Memory is bounded: at most `capacity` addresses and `capacity` name/network pairs, the least
///   recently failed dropped first.
///
/// Thread-safe: one instance is shared by every event-loop shard; each call takes a `Mutex` briefly and
/// never blocks otherwise. Nothing here sleeps: callers arm a timer for the delays it returns.
public final class LoginThrottle: Sendable {
    /// The tunables; times in seconds.
    public struct Settings: Sendable, Equatable {
        /// The delay after the first counted failure; 0 turns throttling off.
        public var initialDelay: Double
        public var maxDelay: Double
        /// Quiet time after which an address's level steps down by one.
        public var quietPeriod: Double
        /// Counted failures a (name, network) pair may have before its logins are refused.
        public var userBudget: Int
        /// Quiet time after which a pair's count steps down by one.
        public var budgetPeriod: Double
        /// Recent failed (name, secret) hashes remembered per address.
        public var recentSecrets: Int
        /// Most addresses, and most (name, network) pairs, remembered.
        public var capacity: Int

        public init(
            initialDelay: Double = 2, maxDelay: Double = 15, quietPeriod: Double = 60, userBudget: Int = 10,
            budgetPeriod: Double = 600, recentSecrets: Int = 8, capacity: Int = 100_000
        ) {
            self.initialDelay = initialDelay
            self.maxDelay = max(maxDelay, initialDelay)
            self.quietPeriod = quietPeriod
            self.userBudget = max(1, userBudget)
            self.budgetPeriod = budgetPeriod
            self.recentSecrets = max(1, recentSecrets)
            self.capacity = max(1, capacity)
        }

        /// `limits.auth_failure_delay`, the rest at their defaults.
        public init(limits: Limits) {
            self.init(initialDelay: limits.authFailureDelay.initial, maxDelay: limits.authFailureDelay.max)
        }
    }

    /// What to do with a login that is about to be tried.
    public enum Admission: Sendable, Equatable {
        /// Try it; hold the answer until `delay` seconds after the login began (0: answer at once).
        case proceed(delay: Double)
        /// The name's failure budget from this network is spent: answer it as a failed login after
        /// `delay` seconds, without asking the backend.
        case refuse(delay: Double)
    }

    /// What a failed login did to the throttle.
    public enum FailureRecord: Sendable, Equatable {
        /// Counted: the address is now at `level`, and its next answer waits `nextDelay`.
        case counted(level: Int, nextDelay: Double)
        /// The same name and secret failed recently from this address: not counted again.
        case repeatedSecret
        /// A trusted address, or throttling is off.
        case exempt
    }

    struct AddressState {
        var level: Int
        var lastFailure: Double
        var recent: [UInt64]
    }

    struct PairKey: Hashable {
        var user: String
        var network: ClientAddressKey
    }

    struct PairState {
        var failures: Int
        var lastFailure: Double
    }

    struct State {
        var settings: Settings
        var trusted: NetworkSet
        var addresses: BoundedTable<ClientAddressKey, AddressState>
        var pairs: BoundedTable<PairKey, PairState>
    }

    /// Highest level kept: far past the point where the delay reaches its maximum.
    static let maxLevel = 32

    private let state: Mutex<State>
    private let clock: any MapClock
    private let hasher: SipHash24

    public init(
        settings: Settings = Settings(), trusted: NetworkSet = NetworkSet(), clock: any MapClock = SystemClock(),
        hasher: SipHash24 = .random()
    ) {
        self.clock = clock
        self.hasher = hasher
        state = Mutex(
            State(
                settings: settings, trusted: trusted, addresses: BoundedTable(capacity: settings.capacity),
                pairs: BoundedTable(capacity: settings.capacity)))
    }

    /// New delays and trusted networks (a reload); what was counted is kept.
    public func update(settings: Settings, trusted: NetworkSet) {
        state.withLock {
            $0.settings = settings
            $0.trusted = trusted
        }
    }

    /// How long the next answer to `client` must wait (0 for a trusted or unknown address).
    public func delay(for client: IPAddress) -> Double {
        let now = clock.now()
        return state.withLock { state in
            guard !Self.exempt(client, state) else { return 0 }
            return Self.delay(
                Self.level(state.addresses[ClientAddressKey(client)], now, state.settings), state.settings)
        }
    }

    /// Whether a login of `user` from `client` is tried, and how long its answer waits.
    public func admit(user: String, client: IPAddress) -> Admission {
        let now = clock.now()
        return state.withLock { state in
            guard !Self.exempt(client, state) else { return .proceed(delay: 0) }
            let key = ClientAddressKey(client)
            let delay = Self.delay(Self.level(state.addresses[key], now, state.settings), state.settings)
            let pair = state.pairs[PairKey(user: user.lowercased(), network: key)]
            if Self.failures(pair, now, state.settings) >= state.settings.userBudget {
                return .refuse(delay: max(delay, state.settings.maxDelay))
            }
            return .proceed(delay: delay)
        }
    }

    /// Records a failed login of `user` with `secret` (the password or token; only its keyed hash is kept).
    public func recordFailure(user: String, secret: some Sequence<UInt8>, client: IPAddress) -> FailureRecord {
        recordFailure(user: user, fingerprint: fingerprint(user: user, secret: secret), client: client)
    }

    /// The keyed hash of `user` and `secret` that `recordFailure(user:fingerprint:client:)` takes: a session
    /// computes it when the login starts, so that it can drop the secret the moment the backend answers.
    public func fingerprint(user: String, secret: some Sequence<UInt8>) -> UInt64 {
        var message = Array(UInt64(user.utf8.count).littleEndianBytes) + Array(user.utf8)
        message += secret
        return hasher.hash(message)
    }

    /// Records a failed login of `user` whose secret had this `fingerprint` (from this throttle).
    public func recordFailure(user: String, fingerprint digest: UInt64, client: IPAddress) -> FailureRecord {
        let now = clock.now()
        return state.withLock { state in
            guard !Self.exempt(client, state) else { return .exempt }
            let settings = state.settings
            let key = ClientAddressKey(client)
            var address = state.addresses[key] ?? AddressState(level: 0, lastFailure: now, recent: [])
            guard !address.recent.contains(digest) else { return .repeatedSecret }
            address.level = min(Self.maxLevel, Self.level(address, now, settings) + 1)
            address.lastFailure = now
            address.recent.append(digest)
            if address.recent.count > settings.recentSecrets { address.recent.removeFirst() }
            state.addresses.set(key, address)
            let pairKey = PairKey(user: user.lowercased(), network: key)
            let failures = Self.failures(state.pairs[pairKey], now, settings) + 1
            state.pairs.set(pairKey, PairState(failures: failures, lastFailure: now))
            return .counted(level: address.level, nextDelay: Self.delay(address.level, settings))
        }
    }

    /// A successful login: the name's budget from this network is restored. The address's level is
    /// left to decay, so that logging in to one's own account does not wipe the penalty of guesses
    /// made on others.
    public func recordSuccess(user: String, client: IPAddress) {
        state.withLock { state in
            state.pairs.remove(PairKey(user: user.lowercased(), network: ClientAddressKey(client)))
        }
    }

    /// Addresses and name/network pairs currently remembered (for tests and metrics).
    public var entryCounts: (addresses: Int, pairs: Int) {
        state.withLock { ($0.addresses.count, $0.pairs.count) }
    }

    // MARK: Arithmetic on a snapshot

    private static func exempt(_ client: IPAddress, _ state: State) -> Bool {
        state.settings.initialDelay <= 0 || state.trusted.contains(client)
    }

    /// The address's level after its decay until `now`.
    private static func level(_ address: AddressState?, _ now: Double, _ settings: Settings) -> Int {
        guard let address, address.level > 0 else { return 0 }
        return max(0, address.level - steps(since: address.lastFailure, now, period: settings.quietPeriod))
    }

    private static func failures(_ pair: PairState?, _ now: Double, _ settings: Settings) -> Int {
        guard let pair else { return 0 }
        return max(0, pair.failures - steps(since: pair.lastFailure, now, period: settings.budgetPeriod))
    }

    private static func steps(since then: Double, _ now: Double, period: Double) -> Int {
        guard period > 0 else { return Int.max / 2 }
        let elapsed = max(0, now - then) / period
        return elapsed >= 1e9 ? 1_000_000_000 : Int(elapsed)
    }

    /// `initial * 2^(level-1)`, at most `max`; 0 at level 0.
    static func delay(_ level: Int, _ settings: Settings) -> Double {
        guard level > 0 else { return 0 }
        let doubled = settings.initialDelay * Double(1 << min(level - 1, 30))
        return min(doubled, settings.maxDelay)
    }
}

extension UInt64 {
    fileprivate var littleEndianBytes: [UInt8] {
        (0..<8).map { UInt8((self >> (8 * $0)) & 0xFF) }
    }
}
