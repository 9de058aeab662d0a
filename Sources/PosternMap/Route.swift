import PosternConfig
import PosternSync

/// One backend server as a map names it: a host, and a port when the map gives one.
public struct BackendAddress: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var host: String
    /// Nil means the listener's backend port.
    public var port: Int?

    public init(host: String, port: Int? = nil) {
        self.host = host
        self.port = port
    }

    /// Parses `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 address; nil when malformed.
    ///
    /// The rules are the config's (`AddressSyntax`): host names are dot-separated ASCII labels, IPv6
    /// addresses must be valid (a `%zone` suffix is allowed), ports are 1...65535 in decimal digits.
    public static func parse(_ text: some StringProtocol) -> BackendAddress? {
        guard case .success(let parsed) = AddressSyntax.parse(String(text), portRequired: false, bareIPv6: true)
        else { return nil }
        return BackendAddress(host: parsed.host, port: parsed.port)
    }

    public var description: String {
        let host = self.host.contains(":") ? "[\(self.host)]" : self.host
        return port.map { "\(host):\($0)" } ?? host
    }
}

/// Where a user goes and why: the answer of a map lookup.
public struct Route: Sendable, Equatable {
    /// Servers to try, in order.
    public var servers: [BackendAddress]
    /// Human-readable provenance, e.g. `users.map:12 (exact)` or `default`.
    public var reason: String
    /// The login name to use towards the backend, when the map replaces the client's.
    public var backendUser: String?

    public init(servers: [BackendAddress], reason: String, backendUser: String? = nil) {
        self.servers = servers
        self.reason = reason
        self.backendUser = backendUser
    }
}

/// What a map is asked: the user (after any rewriting) and where the client connects from.
public struct MapQuery: Sendable, Equatable {
    public var user: String
    /// The client's IP address, for maps that route by it.
    public var clientIP: String?
    /// Where the steps of the decision are written down (`postern lookup`), when someone asks.
    public var trace: LookupTrace?

    public init(user: String, clientIP: String? = nil, trace: LookupTrace? = nil) {
        self.user = user
        self.clientIP = clientIP
        self.trace = trace
    }

    public static func == (lhs: MapQuery, rhs: MapQuery) -> Bool {
        lhs.user == rhs.user && lhs.clientIP == rhs.clientIP
    }

    /// Records one step of the decision, if the query is traced.
    public func note(_ text: @autoclosure () -> String) {
        trace?.note(text())
    }
}

/// The steps of one map decision, in order, for `postern lookup`.
public final class LookupTrace: Sendable {
    private let storage = Mutex<[String]>([])
    public init() {}
    public func note(_ text: String) { storage.withLock { $0.append(text) } }
    public var lines: [String] { storage.withLock { $0 } }
}

/// A source of routes. Lookups are asynchronous because directories (LDAP) answer over the network; maps
/// that can answer at once also say so without suspending (`immediateLookup`).
public protocol UserMap: Sendable {
    /// The route for the query, or nil when this map does not know the user.
    func lookup(_ query: MapQuery) async throws -> Route?
    /// The same answer as `lookup`, or the same error, when the map has it at once; else `.mustAsk` (and
    /// then `lookup` asks, from the start: maps asked before the one that could not answer are asked again,
    /// so they must be free of side effects that matter twice). The default is `.mustAsk`.
    func immediateLookup(_ query: MapQuery) throws -> ImmediateLookup
}

extension UserMap {
    public func immediateLookup(_ query: MapQuery) throws -> ImmediateLookup { .mustAsk }

    /// The route for `user`, with no client address.
    public func lookup(user: String) async throws -> Route? {
        try await lookup(MapQuery(user: user))
    }
}

/// A map source failed (as opposed to not knowing the user).
public struct MapError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
