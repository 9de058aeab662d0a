/// A TLS protocol version as Postern's settings name it.
public enum TLSProtocolVersion: String, Sendable, Equatable {
    case tls1_2 = "1.2"
    case tls1_3 = "1.3"
}

/// A certificate chain and its key, as PEM files. `serverNames` empty: a default certificate; otherwise the
/// certificate is presented to clients that ask for one of those names by SNI (`*.example.org` matches one label).
public struct TLSServerCertificate: Sendable, Equatable {
    public var chainPath: String
    public var keyPath: String
    public var serverNames: [String]

    public init(chainPath: String, keyPath: String, serverNames: [String] = []) {
        self.chainPath = chainPath
        self.keyPath = keyPath
        self.serverNames = serverNames
    }
}

/// How TLS sessions are resumed.
public enum TLSResumption: String, Sendable, Equatable, CaseIterable {
    /// Stateless session tickets, encrypted with a key that rotates.
    case tickets
    /// A server-side session cache (session IDs; stateful tickets in TLS 1.3).
    case cache
    /// No resumption: every connection does a full handshake.
    case off
}

/// Whether a server asks clients for a certificate.
public enum TLSClientCertificateMode: String, Sendable, Equatable, CaseIterable {
    case none, optional, required
}

/// What a client-facing (server) TLS context is built from.
public struct ServerTLSSettings: Sendable, Equatable {
    /// PEM file with the default certificate chain, leaf first.
    public var certificateChainPath: String
    /// PEM file with the private key of the default certificate.
    public var privateKeyPath: String
    /// More certificates: without server names they join the default one (one per key type, e.g. RSA and
    /// ECDSA side by side); with server names they are chosen by SNI.
    public var certificates: [TLSServerCertificate] = []
    public var minVersion: TLSProtocolVersion = .tls1_2
    /// The highest protocol version offered; nil allows the newest OpenSSL supports.
    public var maxVersion: TLSProtocolVersion?
    /// OpenSSL cipher list for TLS 1.2.
    public var ciphers: String
    /// OpenSSL cipher suites for TLS 1.3.
    public var ciphersuites: String
    /// Key-exchange groups in preference order (`X25519:P-256:ffdhe2048`); nil keeps OpenSSL's list.
    public var groups: String?
    /// The server's cipher order wins over the client's.
    public var preferServerCiphers: Bool = true
    /// PEM file with DH parameters; nil picks RFC 7919 groups automatically.
    public var dhParamsPath: String?
    public var resumption: TLSResumption = .tickets
    /// Seconds a session may be resumed after it was made.
    public var sessionLifetime: Int = 7200
    /// Seconds after which a new ticket key is made (old ones still decrypt for `sessionLifetime`).
    public var ticketKeyRotation: Int = 3600
    /// Most sessions kept by the `cache` resumption mode.
    public var sessionCacheSize: Int = 20000
    public var clientCertificates: TLSClientCertificateMode = .none
    /// CA bundle that client certificates must chain to (required unless `clientCertificates` is `.none`).
    public var clientCAFile: String?
    /// Sessions resume only in a context with the same id (e.g. the listener's name).
    public var sessionIDContext: String = "postern"
    /// The listener's ALPN protocol id (`imap`, `pop3`, `managesieve`): a client that offers ALPN must offer
    /// it (else the handshake fails with `no_application_protocol`); nil leaves ALPN out.
    public var applicationProtocol: String?
    /// Refuse (alert `unrecognized_name`) a handshake whose SNI name no certificate serves; no SNI is accepted.
    public var strictSNI: Bool = false

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

/// A TLSA-style pin (RFC 6698): usage 0-3, selector 0 (certificate) or 1 (public key), matching type 0 (exact),
/// 1 (SHA-256) or 2 (SHA-512), and the data to match.
public struct TLSAPin: Sendable, Equatable, CustomStringConvertible {
    public var usage: UInt8
    public var selector: UInt8
    public var matchingType: UInt8
    public var data: [UInt8]

    public init(usage: UInt8, selector: UInt8, matchingType: UInt8, data: [UInt8]) {
        self.usage = usage
        self.selector = selector
        self.matchingType = matchingType
        self.data = data
    }

    /// The record in presentation form: `3 1 1 9f86...`.
    public var description: String {
        "\(usage) \(selector) \(matchingType) " + data.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

/// What a backend-facing (client) TLS context is built from.
public struct ClientTLSSettings: Sendable, Equatable {
    /// CA bundle to verify backends against; nil (with `caPath` nil) uses the system store.
    public var caFile: String?
    /// Folder of CA certificates named by hash (`openssl rehash`).
    public var caPath: String?
    /// Verify the backend's chain against the CAs and its host name.
    public var verify: Bool = true
    public var minVersion: TLSProtocolVersion = .tls1_2
    /// The highest protocol version offered; nil allows the newest OpenSSL supports.
    public var maxVersion: TLSProtocolVersion?
    /// OpenSSL cipher list for TLS 1.2; nil keeps OpenSSL's default.
    public var ciphers: String?
    /// TLS 1.3 cipher suites; nil keeps OpenSSL's default.
    public var ciphersuites: String?
    /// Key-exchange groups; nil keeps OpenSSL's default.
    public var groups: String?
    /// Client certificate chain and key for mutual TLS.
    public var certificateChainPath: String?
    public var privateKeyPath: String?
    /// TLSA-style pins checked with OpenSSL's DANE code; any match authenticates the backend.
    public var pins: [TLSAPin] = []

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

/// What a finished handshake agreed on, for logs.
public struct TLSSessionInfo: Sendable, Equatable {
    public var version: String
    public var cipher: String
    public var resumed: Bool
    /// The SNI name the client asked for (server role), if any.
    public var serverName: String?
    /// The subject of the peer's certificate, if it sent one.
    public var peerSubject: String?
    /// The protocol agreed by ALPN, if the client offered ALPN (and, towards a backend, the backend chose one).
    public var alpn: String?

    public init(
        version: String, cipher: String, resumed: Bool, serverName: String? = nil, peerSubject: String? = nil,
        alpn: String? = nil
    ) {
        self.version = version
        self.cipher = cipher
        self.resumed = resumed
        self.serverName = serverName
        self.peerSubject = peerSubject
        self.alpn = alpn
    }
}
