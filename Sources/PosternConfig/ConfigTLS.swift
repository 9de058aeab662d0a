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

/// The default TLS 1.2 cipher list: forward-secret AEAD suites only.
public let defaultTLS12Ciphers = "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20"
/// The default TLS 1.3 cipher suites.
public let defaultTLS13Ciphersuites = "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256"

/// The client-facing `tls:` block.
public struct ServerTLSConfig: Sendable, Equatable {
    public var certificate: String
    public var key: String
    public var minVersion: TLSVersion = .v1_2
    public var ciphers: String = defaultTLS12Ciphers
    public var ciphersuites: String = defaultTLS13Ciphersuites
    public var preferServerCiphers: Bool = true
    public var dhParams: DHParams = .auto
    public init(certificate: String, key: String) {
        self.certificate = certificate
        self.key = key
    }
}

/// The `backend_tls:` block: how backends are verified.
public struct BackendTLSConfig: Sendable, Equatable {
    /// CA bundle; nil means the system store.
    public var caFile: String? = nil
    public var verify: Bool = true
    public var minVersion: TLSVersion = .v1_2
    public var ciphers: String? = nil
    public init() {}
}
