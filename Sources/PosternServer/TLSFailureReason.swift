import PosternIO

/// Why a client's TLS handshake failed, as the bounded `reason` label of
/// `postern_tls_handshake_failures_total`: OpenSSL's reason sorted into a few classes.
enum TLSFailureReason: String, Sendable, Equatable, CaseIterable {
    /// No protocol version in common (e.g. a TLS 1.0 client and `min_version: "1.2"`).
    case protocolVersion = "protocol_version"
    /// No cipher suite, signature algorithm or group in common.
    case noSharedCipher = "no_shared_cipher"
    /// The client does not trust our certificate's issuer (its alert `unknown_ca`).
    case unknownCA = "unknown_ca"
    /// A certificate was refused: ours by the client, or the client's by us.
    case badCertificate = "bad_certificate"
    /// The client offered ALPN without the listener's protocol (ALPACA defence).
    case noApplicationProtocol = "no_application_protocol"
    /// `strict_sni`: the client asked by SNI for a name no certificate serves.
    case unrecognizedName = "unrecognized_name"
    /// The client did not speak TLS (plain text, an HTTP request).
    case notTLS = "not_tls"
    /// Anything else (a truncated handshake, an internal error).
    case other

    /// The class of a failed handshake, from OpenSSL's reason (`IOError.tlsReason`).
    init(_ error: IOError) {
        self.init(openSSLReason: error.tlsReason)
    }

    /// The class of an OpenSSL reason string such as `no shared cipher` or `tlsv1 alert unknown ca`.
    init(openSSLReason reason: String?) {
        let text = reason?.lowercased() ?? ""
        if text.contains("unknown ca") {
            self = .unknownCA
        } else if text.contains("no application protocol") {
            self = .noApplicationProtocol
        } else if text.contains("callback failed") || text.contains("unrecognized name") {
            // The only callback that fails a server handshake is the SNI one under strict_sni.
            self = .unrecognizedName
        } else if text.contains("protocol version") || text.contains("unsupported protocol")
            || text.contains("wrong version number") || text.contains("version too low")
            || text.contains("no protocols available")
        {
            self = .protocolVersion
        } else if text.contains("no shared cipher") || text.contains("no suitable signature")
            || text.contains("no shared signature") || text.contains("insufficient security")
            || text.contains("no suitable key share") || text.contains("no shared group")
        {
            self = .noSharedCipher
        } else if text.contains("certificate") {
            self = .badCertificate
        } else if text.contains("http request") || text.contains("http proxy request")
            || text.contains("packet length too long") || text.contains("record layer failure")
        {
            self = .notTLS
        } else {
            self = .other
        }
    }
}
