import PosternAdmin
import PosternConfig
import PosternIO
import PosternMap
import PosternProtocol
import PosternTLS

/// Everything a session needs that comes from the configuration, built once per (re)load and shared
/// read-only by the sessions accepted while it is current.
public final class Runtime: Sendable {
    public let config: PosternConfig
    /// Every TLS context: per listener towards clients, global and per backend towards backends.
    public let tls: TLSPolicies
    /// The context for TLS towards backends that have no `backends:` entry.
    public var backendTLS: TLSContext { tls.defaultBackend.context }
    public let map: any UserMap
    /// Resolves backend names and opens backend connections for the sessions of this runtime.
    public let dialler: any Dialler
    /// Backends that failed to connect are skipped for a while; shared by every session of this runtime.
    public let breaker: CircuitBreaker
    let mapMetrics: MapMetricsSink
    /// The backends the configuration names: the only ones metric labels show by name.
    let namedBackends: NamedBackends
    public let generation: Int
    /// The map's files as they were when the map was built (or taken over).
    let mapFiles: MapFilesFingerprint
    /// True when the map (and its cache) was taken over from the runtime before, not built anew.
    public let mapReused: Bool
    /// True when the breaker (and what it knows of the backends) was taken over from the runtime before.
    public let breakerReused: Bool
    /// The map's sources, timed and watched (empty when the map was given): what `/readyz` checks.
    let mapSources: [MeasuredMapSource]
    /// The admin API's bearer token (`server.admin_token_file`), read with the rest of the configuration.
    let adminToken: AdminToken?
    /// What the sessions of each listener share while this runtime is current (`SessionContext`).
    let sessionSharing = SessionSharing()

    /// Builds contexts and maps; throws with a message naming what failed. `map` and `dialler` replace the
    /// configured map and the system dialler (tests). With `previous` (a reload), its map is taken over when
    /// the map's configuration and files did not change, and its breaker when `map.breaker` did not.
    public init(
        config: PosternConfig, generation: Int, mapMetrics: MapMetricsSink = .none, map: (any UserMap)? = nil,
        dialler: (any Dialler)? = nil, reusing previous: Runtime? = nil
    ) throws(RuntimeError) {
        self.config = config
        self.generation = generation
        tls = try TLSPolicies(config: config)
        let files = MapFilesFingerprint(config.map)
        mapFiles = files
        if let map {
            self.map = map
            mapReused = false
            mapSources = []
        } else if let previous, previous.config.map == config.map, previous.mapFiles == files {
            self.map = previous.map
            mapSources = previous.mapSources
            mapReused = true
        } else {
            (self.map, mapSources) = try MapBuilder.buildMeasured(config.map, metrics: mapMetrics)
            mapReused = false
        }
        let fileServers = mapSources.reduce(into: Set<BackendAddress>()) { $0.formUnion($1.listedServers) }
        namedBackends = NamedBackends(config: config, fileServers: fileServers)
        adminToken = try Runtime.readAdminToken(config.server)
        self.dialler = dialler ?? Runtime.systemDialler(keepalive: Runtime.keepalive(config.limits))
        self.mapMetrics = mapMetrics
        if let previous, previous.config.map.breaker == config.map.breaker {
            breaker = previous.breaker
            breakerReused = true
        } else {
            breaker = CircuitBreaker(failures: config.map.breaker.failures, backoff: config.map.breaker.backoff)
            breakerReused = false
        }
    }

    /// The token of `server.admin_token_file`, or nil without the key.
    static func readAdminToken(_ server: ServerSettings) throws(RuntimeError) -> AdminToken? {
        guard let path = server.adminTokenFile else { return nil }
        do {
            return try AdminToken.read(path: path)
        } catch {
            throw RuntimeError("server.admin_token_file: \(error)")
        }
    }

    /// The client-facing TLS context of a listener, when it uses TLS.
    public func serverTLS(for listener: String) -> TLSContext? {
        tls.serverContexts[listener]
    }

    /// The map the config describes: sources in order, cache, default servers, user-name rewriting.
    public static func buildMap(_ config: MapConfig, metrics: MapMetricsSink = .none) throws(RuntimeError)
        -> MapDirector
    {
        try MapBuilder.build(config, metrics: metrics)
    }

    /// The front-end options of a listener's new connection.
    func frontEndOptions(for listener: ListenerConfig, tlsActive: Bool) -> FrontEndOptions {
        var options = FrontEndOptions(
            starttlsOffered: listener.tls == .starttls || listener.tls == .starttlsRequired,
            tlsActive: tlsActive,
            tlsRequiredForLogin: listener.tls == .starttlsRequired || listener.tls == .implicit,
            maxLine: config.limits.maxLine,
            maxLoginAttempts: config.limits.loginAttempts,
            mechanisms: listener.sasl.map(Runtime.mechanism))
        options.maxPreauthCommands = config.limits.maxPreauthCommands
        return options
    }

    /// A fresh front-end state machine for a listener's new connection.
    func makeFrontEnd(for listener: ListenerConfig, tlsActive: Bool) -> any FrontEndMachine {
        let options = frontEndOptions(for: listener, tlsActive: tlsActive)
        switch listener.proto {
        case .imap:
            return IMAPFrontEnd(options: options)
        case .pop3:
            return POP3FrontEnd(options: options)
        case .managesieve:
            return SieveFrontEnd(options: options, capabilities: Runtime.sieveCapabilities(listener))
        }
    }

    /// A back-end login state machine for a listener's backend, with that backend's TLS mode and fallback, and
    /// the client to tell it about (`backend.forward_client`).
    func makeBackEndLogin(
        for listener: ListenerConfig, credentials: Credentials, mode: BackendTLSMode, policy: BackendPolicy,
        forwarded: ForwardedClient? = nil
    ) -> any BackEndLoginMachine {
        var options = BackEndOptions(
            useStartTLS: mode == .starttls, allowPlaintextFallback: policy.allowPlaintextFallback)
        options.forwardedClient = forwarded
        switch listener.proto {
        case .imap:
            return IMAPBackEndLogin(credentials: credentials, options: options)
        case .pop3:
            return POP3BackEndLogin(credentials: credentials, options: options)
        case .managesieve:
            return SieveBackEndLogin(credentials: credentials, options: options)
        }
    }
}

/// Why a configuration could not be put into service.
public struct RuntimeError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
