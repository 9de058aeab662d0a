/// A TLS protocol version as Postern's settings name it.
public enum TLSProtocolVersion: String, Sendable, Equatable {
    case tls1_2 = "1.2"
    case tls1_3 = "1.3"
}

/// What a client-facing (server) TLS context is built from.
public struct ServerTLSSettings: Sendable, Equatable {
    /// PEM file with the certificate chain, leaf first.
    public var certificateChainPath: String
    /// PEM file with the private key.
    public var privateKeyPath: String
    public var minVersion: TLSProtocolVersion = .tls1_2
    /// The highest protocol version offered; nil allows the newest OpenSSL supports.
    public var maxVersion: TLSProtocolVersion?
    /// OpenSSL cipher list for TLS 1.2.
    public var ciphers: String
    /// OpenSSL cipher suites for TLS 1.3.
    public var ciphersuites: String
    /// The server's cipher order wins over the client's.
    public var preferServerCiphers: Bool = true
    /// PEM file with DH parameters; nil picks RFC 7919 groups automatically.
    public var dhParamsPath: String?

    public init(
        certificateChainPath: String, privateKeyPath: String, minVersion: TLSProtocolVersion = .tls1_2,
        ciphers: String, ciphersuites: String, preferServerCiphers: Bool = true, dhParamsPath: String? = nil,
        maxVersion: TLSProtocolVersion? = nil
    ) {
        self.certificateChainPath = certificateChainPath
        self.privateKeyPath = privateKeyPath
        self.minVersion = minVersion
        self.ciphers = ciphers
        self.ciphersuites = ciphersuites
        self.preferServerCiphers = preferServerCiphers
        self.dhParamsPath = dhParamsPath
        self.maxVersion = maxVersion
    }
}

/// What a backend-facing (client) TLS context is built from.
public struct ClientTLSSettings: Sendable, Equatable {
    /// CA bundle to verify backends against; nil uses the system store.
    public var caFile: String?
    /// Verify the backend's chain and host name.
    public var verify: Bool = true
    public var minVersion: TLSProtocolVersion = .tls1_2
    /// The highest protocol version offered; nil allows the newest OpenSSL supports.
    public var maxVersion: TLSProtocolVersion?
    /// OpenSSL cipher list for TLS 1.2; nil keeps OpenSSL's default.
    public var ciphers: String?

    public init(
        caFile: String? = nil, verify: Bool = true, minVersion: TLSProtocolVersion = .tls1_2, ciphers: String? = nil,
        maxVersion: TLSProtocolVersion? = nil
    ) {
        self.caFile = caFile
        self.verify = verify
        self.minVersion = minVersion
        self.ciphers = ciphers
        self.maxVersion = maxVersion
    }
}

/// An error from OpenSSL, with the error queue's text (or the verification failure) attached.
public struct TLSError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// What a finished handshake agreed on, for logs.
public struct TLSSessionInfo: Sendable, Equatable {
    public var version: String
    public var cipher: String
    public var resumed: Bool
}
