internal import COpenSSL
internal import CPosternShims

/// An immutable OpenSSL `SSL_CTX`, either client-facing (server role) or backend-facing (client role).
///
/// OpenSSL allows `SSL_new` on one context from many threads, so a context is shared by every session.
/// A server context may own further contexts that the SNI callback switches to; a client context may
/// carry TLSA pins that each connection enables.
public final class TLSContext: @unchecked Sendable {
    let ctx: OpaquePointer
    /// True for a context that accepts connections.
    public let isServer: Bool
    /// True when peers are verified (a backend's chain or pins; a client's certificate).
    public let verifiesPeer: Bool
    /// Pins every connection of this (client) context checks.
    let pins: [TLSAPin]
    /// Contexts chosen by SNI, by lower-case server name (`*.example.org` for wildcards).
    var sniContexts: [String: TLSContext] = [:]
    /// The ticket keys this (server) context encrypts session tickets with, if tickets are on.
    var ticketKeys: TicketKeyRing?
    /// The certificates loaded into this context and its SNI contexts, for reports.
    var certificates: [TLSCertificateInfo] = []
    /// What the context was built from (server role), for reports.
    var serverSettings: ServerTLSSettings?
    var clientSettings: ClientTLSSettings?
    /// The ALPN protocol each connection of this (client) context offers, if any.
    public internal(set) var offeredProtocol: String?
    /// Lower-case DNS names of the default certificates (`strict_sni` accepts them besides `sniContexts`).
    var defaultNames: Set<String> = []
    /// Refuse SNI names no certificate serves (server role).
    var strictSNI = false

    init(ctx: OpaquePointer, isServer: Bool, verifiesPeer: Bool, pins: [TLSAPin] = []) {
        self.ctx = ctx
        self.isServer = isServer
        self.verifiesPeer = verifiesPeer
        self.pins = pins
    }

    deinit { SSL_CTX_free(ctx) }

    func applyCommon(minVersion: TLSProtocolVersion, maxVersion: TLSProtocolVersion?) throws(TLSError) {
        if let maxVersion, maxVersion.openSSLVersion < minVersion.openSSLVersion {
            throw TLSError("max_version \(maxVersion.rawValue) is below min_version \(minVersion.rawValue)")
        }
        guard postern_ssl_ctx_set_min_proto(ctx, minVersion.openSSLVersion) == 1 else {
            throw TLSContext.lastError("min_version \(minVersion.rawValue)")
        }
        if let maxVersion, postern_ssl_ctx_set_max_proto(ctx, maxVersion.openSSLVersion) != 1 {
            throw TLSContext.lastError("max_version \(maxVersion.rawValue)")
        }
        _ = postern_ssl_ctx_set_release_buffers(ctx)
    }

    /// Sets the TLS 1.2 cipher list, TLS 1.3 suites and groups that were given.
    func applyCiphers(ciphers: String?, ciphersuites: String?, groups: String?, side: String) throws(TLSError) {
        if let ciphers, SSL_CTX_set_cipher_list(ctx, ciphers) != 1 {
            throw TLSContext.lastError("\(side)ciphers \"\(ciphers)\" select no cipher")
        }
        if let ciphersuites, SSL_CTX_set_ciphersuites(ctx, ciphersuites) != 1 {
            throw TLSContext.lastError("\(side)ciphersuites \"\(ciphersuites)\"")
        }
        if let groups, postern_ssl_ctx_set_groups(ctx, groups) != 1 {
            throw TLSContext.lastError("\(side)groups \"\(groups)\"")
        }
    }

    /// Loads a certificate chain and its key; returns what the certificate says, for reports and checks.
    func loadCertificate(chainPath: String, keyPath: String, serverNames: [String]) throws(TLSError)
        -> TLSCertificateInfo
    {
        guard SSL_CTX_use_certificate_chain_file(ctx, chainPath) == 1 else {
            throw TLSContext.lastError("certificate \(chainPath)")
        }
        let mismatch = "private key \(keyPath) does not match the certificate \(chainPath)"
        guard SSL_CTX_use_PrivateKey_file(ctx, keyPath, SSL_FILETYPE_PEM) == 1 else {
            // OpenSSL 3 compares the key with the certificate already here (X509_R_KEY_VALUES_MISMATCH).
            throw TLSContext.lastError(TLSContext.isKeyMismatch() ? mismatch : "private key \(keyPath)")
        }
        guard SSL_CTX_check_private_key(ctx) == 1 else { throw TLSContext.lastError(mismatch) }
        guard let leaf = SSL_CTX_get0_certificate(ctx) else { throw TLSContext.lastError("certificate \(chainPath)") }
        return TLSCertificateInfo(leaf, path: chainPath, serverNames: serverNames)
    }

    /// True when OpenSSL's error queue says a private key and a certificate disagree.
    private static func isKeyMismatch() -> Bool {
        [ERR_peek_error(), ERR_peek_last_error()].contains { code in
            code != 0 && postern_err_get_lib(code) == ERR_LIB_X509
                && [X509_R_KEY_VALUES_MISMATCH, X509_R_KEY_TYPE_MISMATCH].contains(postern_err_get_reason(code))
        }
    }

    /// Drains OpenSSL's error queue into one error about `what`.
    static func lastError(_ what: String) -> TLSError {
        let queued = drainErrors()
        return TLSError(
            "\(what): \(queued?.text ?? "unknown OpenSSL error")", reason: queued?.reason, library: queued?.library)
    }

    /// What OpenSSL's error queue held: every entry as text, and the first entry's reason and library.
    struct QueuedErrors {
        var text: String
        var reason: String?
        var library: String?
    }

    /// Empties OpenSSL's error queue; nil when it was empty.
    static func drainErrors() -> QueuedErrors? {
        var parts: [String] = []
        var reason: String?
        var library: String?
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            let text = buffer.withUnsafeBufferPointer { ptr in
                String(decoding: ptr.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
            parts.append(text)
            if parts.count == 1 {
                reason = ERR_reason_error_string(code).map { String(cString: $0) }
                library = ERR_lib_error_string(code).map { String(cString: $0) }
            }
        }
        guard !parts.isEmpty else { return nil }
        return QueuedErrors(text: parts.joined(separator: "; "), reason: reason, library: library)
    }
}

extension TLSProtocolVersion {
    /// OpenSSL's number for the version (`TLS1_2_VERSION`, `TLS1_3_VERSION`).
    var openSSLVersion: Int32 {
        switch self {
        case .tls1_2: postern_tls1_2_version()
        case .tls1_3: postern_tls1_3_version()
        }
    }
}
