import PosternConfig
import PosternSync

/// Counts client connections against `limits.max_connections`, `max_connections_per_ip` and
/// `max_preauth_per_ip` (IPv6 counted per /64), and logged-in sessions against `max_sessions_per_user`.
///
/// A connection takes a ``Ticket`` when it is accepted, moves it to a user when the login succeeds,
/// and gives it back when it closes. Refusals are typed and carry the limit, for the protocol's error,
/// the log and a counter per reason. Addresses in `exempt` (`trusted_networks`) skip the per-address
/// limits, never the global one.
///
/// Thread-safe: one instance is shared by every event-loop shard; each call takes a `Mutex` briefly.
/// Releasing a ticket twice, or one it does not know, does nothing, so counts can never go negative.
public final class ConnectionLimiter: Sendable {
    /// The limits; nil means no limit.
    public struct Settings: Sendable, Equatable {
        public var maxConnections: Int
        public var maxConnectionsPerIP: Int?
        public var maxPreauthPerIP: Int?
        public var maxSessionsPerUser: Int?
        /// Addresses exempt from the per-address limits.
        public var exempt: NetworkSet

        public init(
            maxConnections: Int, maxConnectionsPerIP: Int? = nil, maxPreauthPerIP: Int? = nil,
            maxSessionsPerUser: Int? = nil, exempt: NetworkSet = NetworkSet()
        ) {
            self.maxConnections = maxConnections
            self.maxConnectionsPerIP = maxConnectionsPerIP
            self.maxPreauthPerIP = maxPreauthPerIP
            self.maxSessionsPerUser = maxSessionsPerUser
            self.exempt = exempt
        }

        /// The `limits:` block, with `trusted_networks` as the exempt networks.
        public init(limits: Limits) {
            self.init(
                maxConnections: limits.maxConnections, maxConnectionsPerIP: limits.maxConnectionsPerIP,
                maxPreauthPerIP: limits.maxPreauthPerIP, maxSessionsPerUser: limits.maxSessionsPerUser,
                exempt: limits.trustedNetworks)
        }
    }

    /// Why a connection or a login was refused.
    public enum Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        case maxConnections(limit: Int)
        case maxConnectionsPerIP(ClientAddressKey, limit: Int)
        case maxPreauthPerIP(ClientAddressKey, limit: Int)
        case maxSessionsPerUser(String, limit: Int)

        /// The config key that refused, as a metric label.
        public var label: String {
            switch self {
            case .maxConnections: return "max_connections"
            case .maxConnectionsPerIP: return "max_connections_per_ip"
            case .maxPreauthPerIP: return "max_preauth_per_ip"
            case .maxSessionsPerUser: return "max_sessions_per_user"
            }
        }

        public var description: String {
            switch self {
            case .maxConnections(let limit): return "max_connections (\(limit)) reached"
            case .maxConnectionsPerIP(let key, let limit): return "max_connections_per_ip (\(limit)) reached for \(key)"
            case .maxPreauthPerIP(let key, let limit): return "max_preauth_per_ip (\(limit)) reached for \(key)"
            case .maxSessionsPerUser(_, let limit): return "max_sessions_per_user (\(limit)) reached"
            }
        }
    }

    /// One accepted connection's place in the counts.
    public struct Ticket: Sendable, Hashable {
        let id: UInt64
        /// The counted address key of the client.
        public let client: ClientAddressKey
    }

    /// The counts at one moment.
    public struct Counts: Sendable, Equatable {
        public var connections: Int
        public var preauth: Int
        public var sessions: Int
        public init(connections: Int, preauth: Int, sessions: Int) {
            self.connections = connections
            self.preauth = preauth
            self.sessions = sessions
        }
    }

    enum Phase {
        case preauth
        case loggedIn(user: String)
    }

    struct State {
        var settings: Settings
        var nextID: UInt64 = 0
        var tickets: [UInt64: (client: ClientAddressKey, phase: Phase)] = [:]
        var perAddress: [ClientAddressKey: Int] = [:]
        var preauthPerAddress: [ClientAddressKey: Int] = [:]
        var perUser: [String: Int] = [:]
    }

    private let state: Mutex<State>

    public init(settings: Settings) {
        state = Mutex(State(settings: settings))
    }

    /// New limits (a reload); connections already counted stay counted and are never closed by it.
    public func update(_ settings: Settings) {
        state.withLock { $0.settings = settings }
    }

    /// Counts a new connection from `client` (not logged in), or says which limit refuses it.
    public func acquire(client: IPAddress) -> Result<Ticket, Refusal> {
        let key = ClientAddressKey(client)
        return state.withLock { state in
            let settings = state.settings
            guard state.tickets.count < settings.maxConnections else {
                return .failure(.maxConnections(limit: settings.maxConnections))
            }
            if !settings.exempt.contains(client) {
                if let limit = settings.maxConnectionsPerIP, state.perAddress[key, default: 0] >= limit {
                    return .failure(.maxConnectionsPerIP(key, limit: limit))
                }
                if let limit = settings.maxPreauthPerIP, state.preauthPerAddress[key, default: 0] >= limit {
                    return .failure(.maxPreauthPerIP(key, limit: limit))
                }
            }
            state.nextID += 1
            state.tickets[state.nextID] = (key, .preauth)
            state.perAddress[key, default: 0] += 1
            state.preauthPerAddress[key, default: 0] += 1
            return .success(Ticket(id: state.nextID, client: key))
        }
    }

    /// The connection logged in as `user` (compared without regard to case): it leaves the
    /// not-logged-in count and joins the user's sessions, unless that would pass `max_sessions_per_user`
    /// (then nothing changes and the login should be refused). Nil when counted; calling it again does nothing.
    public func loggedIn(_ ticket: Ticket, user: String) -> Refusal? {
        let name = user.lowercased()
        return state.withLock { state in
            guard let entry = state.tickets[ticket.id], case .preauth = entry.phase else { return nil }
            if let limit = state.settings.maxSessionsPerUser, state.perUser[name, default: 0] >= limit {
                return .maxSessionsPerUser(user, limit: limit)
            }
            state.tickets[ticket.id] = (entry.client, .loggedIn(user: name))
            Self.decrement(&state.preauthPerAddress, entry.client)
            state.perUser[name, default: 0] += 1
            return nil
        }
    }

    /// The connection closed: its counts are given back.
    public func release(_ ticket: Ticket) {
        state.withLock { state in
            guard let entry = state.tickets.removeValue(forKey: ticket.id) else { return }
            Self.decrement(&state.perAddress, entry.client)
            switch entry.phase {
            case .preauth: Self.decrement(&state.preauthPerAddress, entry.client)
            case .loggedIn(let user): Self.decrement(&state.perUser, user)
            }
        }
    }

    public var counts: Counts {
        state.withLock { state in
            let preauth = state.preauthPerAddress.values.reduce(0, +)
            return Counts(connections: state.tickets.count, preauth: preauth, sessions: state.tickets.count - preauth)
        }
    }

    /// Connections counted for the key of `client`, and how many of them have not logged in.
    public func counts(for client: IPAddress) -> (connections: Int, preauth: Int) {
        let key = ClientAddressKey(client)
        return state.withLock { ($0.perAddress[key, default: 0], $0.preauthPerAddress[key, default: 0]) }
    }

    /// Sessions counted for `user`.
    public func sessions(of user: String) -> Int {
        state.withLock { $0.perUser[user.lowercased(), default: 0] }
    }

    private static func decrement<Key: Hashable>(_ counts: inout [Key: Int], _ key: Key) {
        guard let value = counts[key] else { return }
        counts[key] = value > 1 ? value - 1 : nil
    }
}
