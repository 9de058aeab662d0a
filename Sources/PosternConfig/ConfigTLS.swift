/// How Postern speaks TLS to a backend.
public enum BackendTLSMode: String, Sendable, Equatable, CaseIterable {
    case none, starttls, implicit
}

/// A TLS protocol version floor.
public enum TLSVersion: String, Sendable, Equatable, CaseIterable {
    case v1_2 = "1.2"
    case v1_3 = "1.3"
}

/// Where DH parameters come from: the RFC 7919 groups chosen by OpenSSL, or a PEM file.
public enum DHParams: Sendable, Equatable {
    case auto
    case file(String)
}

/// How client TLS sessions are resumed: stateless tickets (rotating key), a server-side cache, or not at all.
public enum SessionResumptionMode: String, Sendable, Equatable, CaseIterable {
    case tickets, cache, off
}

/// Whether clients are asked for a certificate.
public enum ClientCertificateMode: String, Sendable, Equatable, CaseIterable {
    case none, optional, required
}

/// The default TLS 1.2 cipher list: forward-secret AEAD suites only.
public let defaultTLS12Ciphers = "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20"
/// The default TLS 1.3 cipher suites.
public let defaultTLS13Ciphersuites = "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256"
/// The default key-exchange groups, in preference order.
public let defaultTLSGroups = "X25519:P-256:X448:P-521:P-384:ffdhe2048:ffdhe3072:ffdhe4096"

/// One entry of `certificates:`: a chain and key, for the names in `serverNames` (SNI) or, without names,
/// next to the default certificate (another key type, e.g. ECDSA beside RSA).
public struct ServerCertificateConfig: Sendable, Equatable {
    public var certificate: String
    public var key: String
    public var serverNames: [String]
    public init(certificate: String, key: String, serverNames: [String] = []) {
        self.certificate = certificate
        self.key = key
        self.serverNames = serverNames
    }
}

/// The client-facing `tls:` block, or a listener's effective settings after its `tls_settings:` override.
public struct ServerTLSConfig: Sendable, Equatable {
    public var certificate: String
    public var key: String
    public var certificates: [ServerCertificateConfig] = []
    public var minVersion: TLSVersion = .v1_2
    public var maxVersion: TLSVersion? = nil
    public var ciphers: String = defaultTLS12Ciphers
    public var ciphersuites: String = defaultTLS13Ciphersuites
    public var groups: String = defaultTLSGroups
    public var preferServerCiphers: Bool = true
    public var dhParams: DHParams = .auto
    public var sessionResumption: SessionResumptionMode = .tickets
    /// Seconds a session may be resumed.
    public var sessionLifetime: Int = 7200
    /// Seconds between ticket key rotations.
    public var ticketKeyRotation: Int = 3600
    /// Sessions kept by `session_resumption: cache`.
    public var sessionCacheSize: Int = 20000
    public var clientCertificates: ClientCertificateMode = .none
    public var clientCAFile: String? = nil
    /// Refuse a handshake whose SNI name no configured certificate serves (no SNI at all is accepted).
    public var strictSNI: Bool = false
    public init(certificate: String, key: String) {
        self.certificate = certificate
        self.key = key
    }
}

/// A TLSA-style pin as written in the file: `usage selector matching-type hex-data` (RFC 6698).
public struct TLSAPinConfig: Sendable, Equatable {
    public var usage: Int
    public var selector: Int
    public var matchingType: Int
    public var data: [UInt8]
    public init(usage: Int, selector: Int, matchingType: Int, data: [UInt8]) {
        self.usage = usage
        self.selector = selector
        self.matchingType = matchingType
        self.data = data
    }
}

/// The `backend_tls:` block (how backends are verified), or one `backends:` entry's effective settings.
public struct BackendTLSConfig: Sendable, Equatable {
    /// CA bundle; nil (with `caPath` nil) means the system store.
    public var caFile: String? = nil
    /// Folder of hashed CA certificates (`openssl rehash`).
    public var caPath: String? = nil
    public var verify: Bool = true
    public var minVersion: TLSVersion = .v1_2
    public var maxVersion: TLSVersion? = nil
    public var ciphers: String? = nil
    public var ciphersuites: String? = nil
    public var groups: String? = nil
    /// Client certificate chain and key for mutual TLS.
    public var certificate: String? = nil
    public var key: String? = nil
    public var pins: [TLSAPinConfig] = []
    public init() {}
}

/// One `backends:` entry: settings for the backend the map names as `host` (and `port`, when given).
public struct BackendHostConfig: Sendable, Equatable {
    public var host: String
    /// Only this port of the host, or every port when nil.
    public var port: Int?
    /// Overrides the listener's `backend.tls` for this backend.
    public var tlsMode: BackendTLSMode?
    /// The name sent by SNI and checked in the certificate; nil means `host`.
    public var serverName: String?
    /// Log in without TLS when STARTTLS is not offered (warned every time).
    public var allowPlaintextFallback: Bool = false
    /// `backend_tls:` with this entry's keys applied over it.
    public var tls: BackendTLSConfig
    public init(host: String, port: Int? = nil, tls: BackendTLSConfig) {
        self.host = host
        self.port = port
        self.tls = tls
    }

    /// Whether this entry applies to a backend the map chose.
    public func matches(host other: String, port otherPort: Int) -> Bool {
        host.lowercased() == other.lowercased() && (port == nil || port == otherPort)
    }
}

extension PosternConfig {
    /// The TLS settings a listener uses: its own `tls_settings:` merged over `tls:`, or `tls:` alone.
    public func serverTLS(for listener: ListenerConfig) -> ServerTLSConfig? {
        listener.tlsSettings ?? tls
    }

    /// The `backends:` entry for a backend the map chose: an entry with that port first, then one for any port.
    public func backendEntry(host: String, port: Int) -> BackendHostConfig? {
        backends.first { $0.port == port && $0.matches(host: host, port: port) }
            ?? backends.first { $0.port == nil && $0.matches(host: host, port: port) }
    }
}
