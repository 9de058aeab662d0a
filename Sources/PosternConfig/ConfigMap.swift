/// The `map:` block: where users are routed.
public struct MapConfig: Sendable, Equatable {
    /// Map files in the `user host[:port]` format, asked in order (`file:` takes one path or a list).
    public var files: [String] = []
    /// Regex map files in Perdition's `popmap.re` format (`REGEX: VALUE` lines).
    public var regexFiles: [String] = []
    /// Which matching regex rule wins: the first (Postern and Perdition 2.2) or the last.
    public var regexMatch: RegexMatchOrder = .first
    /// The LDAP directory, if any.
    public var ldap: LDAPMapConfig? = nil
    /// The order in which the configured sources are asked.
    public var order: [MapSourceKind] = MapSourceKind.allCases
    /// Servers for users no source knows, as written (`host` or `host:port`); several are placed by hashing.
    public var defaultServers: [String] = []
    /// How users are spread over several default servers.
    public var hashing: HashingMethod = .rendezvous
    public var cache: MapCacheConfig = MapCacheConfig()
    public var username: UsernameConfig = UsernameConfig()
    public var breaker: BreakerConfig = BreakerConfig()
    /// The only backends a route may name (`allowed_backends:`); nil: any.
    public var allowedBackends: AllowedBackends? = nil
    public init() {}

    /// The first map file (the schema v1 form); setting it replaces the list.
    public var file: String? {
        get { files.first }
        set { files = newValue.map { [$0] } ?? [] }
    }

    /// The first default server (the schema v1 form); setting it replaces the list.
    public var defaultServer: String? {
        get { defaultServers.first }
        set { defaultServers = newValue.map { [$0] } ?? [] }
    }
}

/// The kinds of map source, as named in `map.order`.
public enum MapSourceKind: String, Sendable, Equatable, CaseIterable {
    case file, regex, ldap
}

/// Which regex rule wins when several match.
public enum RegexMatchOrder: String, Sendable, Equatable, CaseIterable {
    /// The first matching line of the file (the default; what Perdition 2.2 does).
    case first
    /// The last matching line (early Perdition releases searched `popmap.re` from the bottom up).
    case last
}

/// Consistent hashing methods for `map.default` lists.
public enum HashingMethod: String, Sendable, Equatable, CaseIterable {
    case rendezvous, ring
}

/// LDAP search scope.
public enum LDAPScope: String, Sendable, Equatable, CaseIterable {
    case base, one, sub
}

/// `map.ldap`: an LDAP directory asked with a filter built from the user name.
public struct LDAPMapConfig: Sendable, Equatable {
    /// `ldap://` or `ldaps://` URIs; several are tried in order.
    public var uris: [String] = []
    public var bindDN: String? = nil
    /// File holding the bind password (its first line; trailing newline ignored).
    public var passwordFile: String? = nil
    public var base: String = ""
    public var scope: LDAPScope = .sub
    public var filter: String = "(uid={user})"
    public var hostAttribute: String = "mailHost"
    public var portAttribute: String? = "mailPort"
    /// The attribute holding the backend login name; nil or empty: none.
    public var userAttribute: String? = nil
    /// Seconds for the network connect and for each operation.
    public var timeout: Double = 5
    /// Upgrade `ldap://` connections with StartTLS.
    public var startTLS: Bool = false
    /// CA bundle to verify the directory's certificate (ldaps/StartTLS); nil: the system store.
    public var caFile: String? = nil
    /// Verify the directory's certificate and name.
    public var verify: Bool = true
    /// Connections kept open and reused.
    public var poolSize: Int = 4
    public init() {}
}

/// `map.cache`: remembered lookup results. Times are seconds; a `ttl` of 0 turns caching off.
public struct MapCacheConfig: Sendable, Equatable {
    public var ttl: Double = 300
    public var negativeTTL: Double = 30
    /// How long past its TTL a positive entry may still be used while the directory fails.
    public var staleTTL: Double = 3600
    /// Most entries kept.
    public var size: Int = 100_000
    public init() {}
}

/// `map.breaker`: the circuit breaker that skips backends that failed to connect.
public struct BreakerConfig: Sendable, Equatable {
    /// Consecutive connect failures that open the breaker for a backend.
    public var failures: Int = 1
    /// Seconds a backend is skipped once its breaker is open.
    public var backoff: Double = 30
    public init() {}
}

/// Lower-casing of a user name.
public enum LowerCaseMode: String, Sendable, Equatable, CaseIterable {
    case none, domain, all
}

/// How a user name is rewritten for one stage (the map lookup, or the backend login).
public struct UsernameStage: Sendable, Equatable {
    public var stripDomain: Bool = false
    /// Added (with the delimiter) to names that have no domain; empty: none.
    public var defaultDomain: String = ""
    public var lowerCase: LowerCaseMode = .none
    public init() {}
}

/// `map.username`: the domain delimiter, per-stage rewriting, the lookup key template.
public struct UsernameConfig: Sendable, Equatable {
    public var domainDelimiter: String = "@"
    public var lookup: UsernameStage = UsernameStage()
    public var login: UsernameStage = UsernameStage()
    /// The lookup key built from the rewritten name: `{user}`, `{local}`, `{domain}`, `{client_ip}`.
    public var keyTemplate: String = "{user}"
    /// Use a backend user name the map returns (`user@host` values, the LDAP user attribute).
    public var fromMap: Bool = true
    public init() {}
}
