/// The typed form of Postern's YAML configuration (schema v1), after validation.
///
/// Every path in it is absolute: relative paths in the file are resolved against the folder
/// of the configuration file by the loader.
public struct PosternConfig: Sendable, Equatable {
    /// The configuration file this was read from (absolute path).
    public var sourcePath: String
    public var server: ServerSettings
    public var listeners: [ListenerConfig]
    /// The client-facing TLS settings; required when any listener uses TLS.
    public var tls: ServerTLSConfig?
    public var backendTLS: BackendTLSConfig
    public var map: MapConfig
    public var limits: Limits
    /// Per-backend TLS settings (`backends:`), each already merged over `backendTLS`.
    public var backends: [BackendHostConfig]
    /// How a stop drains (`shutdown:`).
    public var shutdown: ShutdownSettings

    public init(
        sourcePath: String, server: ServerSettings, listeners: [ListenerConfig], tls: ServerTLSConfig?,
        backendTLS: BackendTLSConfig, map: MapConfig, limits: Limits, backends: [BackendHostConfig] = [],
        shutdown: ShutdownSettings = ShutdownSettings()
    ) {
        self.shutdown = shutdown
        self.sourcePath = sourcePath
        self.server = server
        self.listeners = listeners
        self.tls = tls
        self.backendTLS = backendTLS
        self.map = map
        self.limits = limits
        self.backends = backends
    }
}

/// Process-wide settings (`server:` block).
public struct ServerSettings: Sendable, Equatable {
    /// Number of serial event-loop queues; 0 means one per core.
    public var workers: Int = 0
    /// How the worker queues learn that sockets are ready (`event_loop`).
    public var eventLoop: EventLoopName = .epollThread
    /// Where the HTTP admin API (`/healthz`, `/readyz`, `/metrics`, `/sessions`, ...) listens; nil disables it.
    public var adminListen: SocketAddressSpec? = nil
    /// The file holding the admin API's bearer token (absolute); nil: the protected endpoints answer only
    /// when the admin API listens on a loopback address.
    public var adminTokenFile: String? = nil
    /// Log level name: trace, debug, info, notice, warning, error, critical.
    public var logLevel: String = "info"
    /// Where the pid file goes (absolute); nil: none. `postern reload` finds the server through it.
    public var pidFile: String? = nil
    /// The user (name or id) to run as once the listeners are bound and the keys read; nil: stay.
    public var user: String? = nil
    /// The group (name or id) to run as; nil: the user's primary group (or stay, without `user`).
    public var group: String? = nil
    /// The shape of log lines (`log_format`).
    public var logFormat: LogFormatName = .logfmt
    public init() {}
}

/// `server.log_format`: how log lines are written.
public enum LogFormatName: String, Sendable, Equatable, CaseIterable {
    /// `TS LEVEL message key=value ...`, for people.
    case text
    /// `ts=TS level=LEVEL msg=MESSAGE key=value ...`, every value quoted when it needs it.
    case logfmt
    /// One JSON object per line.
    case json
}

/// A host and port as written in the config: `127.0.0.1:1143`, `[::1]:1143`, `mail.example:143`.
public struct SocketAddressSpec: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// The mail protocol a listener speaks.
public enum MailProtocol: String, Sendable, Equatable, CaseIterable {
    case imap, pop3, managesieve
}

/// How a listener offers TLS to clients.
public enum ListenerTLSMode: String, Sendable, Equatable, CaseIterable {
    case none
    case starttls
    case starttlsRequired = "starttls-required"
    case implicit
}

/// One `listeners:` entry.
public struct ListenerConfig: Sendable, Equatable {
    public var name: String
    public var proto: MailProtocol
    public var listen: [SocketAddressSpec]
    public var tls: ListenerTLSMode
    public var backend: BackendEndpointConfig
    /// The listener's own TLS settings (`tls_settings:` merged over `tls:`); nil uses `tls:` as it is.
    public var tlsSettings: ServerTLSConfig?
    /// The SASL mechanisms offered to clients, in this order (`sasl:`).
    public var sasl: [SASLMechanismName]
    /// What a ManageSieve listener announces (`managesieve:`); nil elsewhere.
    public var manageSieve: ManageSieveSettings?
    /// Who may put a PROXY header in front of the client (`proxy_protocol:`); nil: nobody.
    public var proxyProtocol: ProxyProtocolConfig?
    public init(
        name: String, proto: MailProtocol, listen: [SocketAddressSpec], tls: ListenerTLSMode,
        backend: BackendEndpointConfig, tlsSettings: ServerTLSConfig? = nil,
        sasl: [SASLMechanismName] = SASLMechanismName.defaults, manageSieve: ManageSieveSettings? = nil,
        proxyProtocol: ProxyProtocolConfig? = nil
    ) {
        self.proxyProtocol = proxyProtocol
        self.name = name
        self.proto = proto
        self.listen = listen
        self.tls = tls
        self.backend = backend
        self.tlsSettings = tlsSettings
        self.sasl = sasl
        self.manageSieve = manageSieve
    }
}

/// A SASL mechanism a listener can offer (the `sasl:` list).
public enum SASLMechanismName: String, Sendable, Equatable, CaseIterable {
    case plain, login, xoauth2, oauthbearer

    /// Without a `sasl:` key: the password mechanisms; the token mechanisms only when listed.
    public static let defaults: [SASLMechanismName] = [.plain, .login]
}

/// The `managesieve:` block of a ManageSieve listener: the capabilities it announces before login.
public struct ManageSieveSettings: Sendable, Equatable {
    /// The `SIEVE` capability (space-separated extensions); nil for the built-in Pigeonhole 0.5 list.
    public var sieve: String?
    /// The `NOTIFY` capability; nil for `mailto`, empty to leave it out.
    public var notify: String?
    public init(sieve: String? = nil, notify: String? = nil) {
        self.sieve = sieve
        self.notify = notify
    }
}

/// The `backend:` block of a listener: the port used when the map gives a host alone, and the TLS mode.
public struct BackendEndpointConfig: Sendable, Equatable {
    public var port: Int
    public var tls: BackendTLSMode
    /// A PROXY header to send first (`send_proxy:`).
    public var sendProxy: SendProxyMode
    /// Tell the backend the client's address (IMAP `ID`, POP3/ManageSieve `XCLIENT`) (`forward_client:`).
    public var forwardClient: Bool
    public init(port: Int, tls: BackendTLSMode, sendProxy: SendProxyMode = .none, forwardClient: Bool = false) {
        self.port = port
        self.tls = tls
        self.sendProxy = sendProxy
        self.forwardClient = forwardClient
    }
}

/// The `limits:` block. Times are in seconds.
public struct Limits: Sendable, Equatable {
    public var loginTimeout: Double = 60
    public var idleTimeout: Double = 1800
    public var loginAttempts: Int = 3
    /// Time allowed to connect to a backend and read its greeting.
    public var connectTimeout: Double = 10
    /// Longest pre-authentication command line or login argument, in bytes.
    public var maxLine: Int = 8192
    /// Relay buffer per direction, in bytes; reads pause when it is full.
    public var bufferSize: Int = 65536
    /// Most client connections at once (`max_connections`, alias `max_sessions`); further ones are refused.
    public var maxConnections: Int = 10000
    /// Most connections from one client address (IPv6: one /64); nil: no limit.
    public var maxConnectionsPerIP: Int? = nil
    /// Most connections from one client address (IPv6: one /64) that have not logged in; nil: no limit.
    public var maxPreauthPerIP: Int? = nil
    /// Most logged-in sessions of one user name at once; nil: no limit.
    public var maxSessionsPerUser: Int? = nil
    /// Time allowed for a client's TLS handshake (implicit TLS or after STARTTLS).
    public var tlsHandshakeTimeout: Double = 10
    /// The delay before the next answer to a client address after a failed login.
    public var authFailureDelay: AuthFailureDelay = AuthFailureDelay()
    /// Client networks exempt from login throttling and from the per-address limits (e.g. a webmail host).
    public var trustedNetworks: NetworkSet = NetworkSet()
    /// Hard cap on the bytes queued for one socket (TLS records included); over it the session ends.
    /// Without the key: the larger of 1048576 and `bufferSize` + `queueHeadroom`.
    public var maxQueuedBytes: Int = 1_048_576
    /// Commands before login that are not a login (CAPABILITY, NOOP, ID, CAPA, STARTTLS, ...) per connection.
    public var maxPreauthCommands: Int = 50
    /// TCP keepalive on client and backend sockets.
    public var tcpKeepalive: Bool = true
    /// Seconds a connection is idle before the first keepalive probe (TCP_KEEPIDLE).
    public var tcpKeepaliveIdle: Int = 120
    /// How far `maxQueuedBytes` must be above `bufferSize`: room for the reads and TLS records in flight
    /// when backpressure pauses a reader.
    public static let queueHeadroom = 131_072
    public init() {}

    /// The schema v1 name of `maxConnections`.
    public var maxSessions: Int {
        get { maxConnections }
        set { maxConnections = newValue }
    }
}

/// `limits.auth_failure_delay`: the first delay after a failed login, doubled per further failure up to `max`.
public struct AuthFailureDelay: Sendable, Equatable {
    /// Seconds; 0 turns login throttling off.
    public var initial: Double = 2
    public var max: Double = 15
    public init(initial: Double = 2, max: Double = 15) {
        self.initial = initial
        self.max = max
    }
}

/// A listener's `proxy_protocol:` block: who may send a PROXY header (v1 or v2) in front of the client.
public struct ProxyProtocolConfig: Sendable, Equatable {
    /// Connections from these networks must start with a PROXY header; connections from elsewhere are refused.
    public var acceptFrom: NetworkSet
    public init(acceptFrom: NetworkSet) {
        self.acceptFrom = acceptFrom
    }
}

/// A listener backend's `send_proxy:`: the PROXY header sent to the backend before anything else.
public enum SendProxyMode: String, Sendable, Equatable, CaseIterable {
    case none, v1, v2
}
