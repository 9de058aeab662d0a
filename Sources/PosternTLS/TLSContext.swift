internal import COpenSSL
internal import CPosternShims

/// An immutable OpenSSL `SSL_CTX`, either client-facing (server role) or backend-facing (client role).
///
/// OpenSSL allows `SSL_new` on one context from many threads, so a context is shared by every session.
public final class TLSContext: @unchecked Sendable {
    let ctx: OpaquePointer
    /// True for a context that accepts connections.
    public let isServer: Bool
    /// True when peers are verified (client role only).
    public let verifiesPeer: Bool

    private init(ctx: OpaquePointer, isServer: Bool, verifiesPeer: Bool) {
        self.ctx = ctx
        self.isServer = isServer
        self.verifiesPeer = verifiesPeer
    }

    deinit { SSL_CTX_free(ctx) }

    /// Builds the context that accepts client connections.
    public static func server(_ settings: ServerTLSSettings) throws(TLSError) -> TLSContext {
        guard let ctx = SSL_CTX_new(TLS_server_method()) else { throw lastError("SSL_CTX_new") }
        let context = TLSContext(ctx: ctx, isServer: true, verifiesPeer: false)
        try context.applyCommon(minVersion: settings.minVersion, maxVersion: settings.maxVersion)
        var options = postern_op_no_renegotiation() | postern_op_no_compression()
        if settings.preferServerCiphers { options |= postern_op_cipher_server_preference() }
        _ = SSL_CTX_set_options(ctx, options)
        guard SSL_CTX_use_certificate_chain_file(ctx, settings.certificateChainPath) == 1 else {
            throw lastError("certificate \(settings.certificateChainPath)")
        }
        let mismatch =
            "private key \(settings.privateKeyPath) does not match the certificate \(settings.certificateChainPath)"
        guard SSL_CTX_use_PrivateKey_file(ctx, settings.privateKeyPath, SSL_FILETYPE_PEM) == 1 else {
            // OpenSSL 3 compares the key with the certificate already here (X509_R_KEY_VALUES_MISMATCH).
            throw lastError(isKeyMismatch() ? mismatch : "private key \(settings.privateKeyPath)")
        }
        guard SSL_CTX_check_private_key(ctx) == 1 else { throw lastError(mismatch) }
        guard SSL_CTX_set_cipher_list(ctx, settings.ciphers) == 1 else {
            throw lastError("ciphers \"\(settings.ciphers)\" select no cipher")
        }
        guard SSL_CTX_set_ciphersuites(ctx, settings.ciphersuites) == 1 else {
            throw lastError("ciphersuites \"\(settings.ciphersuites)\"")
        }
        if let path = settings.dhParamsPath {
            try context.loadDHParams(path: path)
        } else {
            _ = postern_ssl_ctx_set_dh_auto(ctx, 1)
        }
        _ = postern_ssl_ctx_set_session_cache_mode(ctx, postern_sess_cache_server())
        let sid: [UInt8] = Array("postern".utf8)
        _ = SSL_CTX_set_session_id_context(ctx, sid, UInt32(sid.count))
        return context
    }

    /// Builds the context used to connect to backends.
    public static func client(_ settings: ClientTLSSettings) throws(TLSError) -> TLSContext {
        guard let ctx = SSL_CTX_new(TLS_client_method()) else { throw lastError("SSL_CTX_new") }
        let context = TLSContext(ctx: ctx, isServer: false, verifiesPeer: settings.verify)
        try context.applyCommon(minVersion: settings.minVersion, maxVersion: settings.maxVersion)
        _ = SSL_CTX_set_options(ctx, postern_op_no_renegotiation() | postern_op_no_compression())
        if let ciphers = settings.ciphers, SSL_CTX_set_cipher_list(ctx, ciphers) != 1 {
            throw lastError("backend ciphers \"\(ciphers)\" select no cipher")
        }
        if settings.verify {
            if let ca = settings.caFile {
                guard SSL_CTX_load_verify_locations(ctx, ca, nil) == 1 else { throw lastError("CA file \(ca)") }
            } else {
                guard SSL_CTX_set_default_verify_paths(ctx) == 1 else { throw lastError("system CA store") }
            }
            SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nil)
        } else {
            SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nil)
        }
        return context
    }

    private func applyCommon(minVersion: TLSProtocolVersion, maxVersion: TLSProtocolVersion?) throws(TLSError) {
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

    private func loadDHParams(path: String) throws(TLSError) {
        guard let bio = BIO_new_file(path, "r") else { throw TLSContext.lastError("DH parameters \(path)") }
        defer { BIO_free(bio) }
        guard let pkey = PEM_read_bio_Parameters(bio, nil) else {
            throw TLSContext.lastError("DH parameters \(path) are not PEM parameters")
        }
        let bits = EVP_PKEY_get_bits(pkey)
        guard bits >= 2048 else {
            EVP_PKEY_free(pkey)
            throw TLSError("DH parameters \(path): \(bits) bits is too weak; at least 2048 are required")
        }
        // Ownership passes to the context only on success.
        guard SSL_CTX_set0_tmp_dh_pkey(ctx, pkey) == 1 else {
            EVP_PKEY_free(pkey)
            throw TLSContext.lastError("DH parameters \(path)")
        }
    }

    /// True when OpenSSL's error queue says a private key and a certificate disagree.
    private static func isKeyMismatch() -> Bool {
        [ERR_peek_error(), ERR_peek_last_error()].contains { code in
            code != 0 && postern_err_get_lib(code) == ERR_LIB_X509
                && [X509_R_KEY_VALUES_MISMATCH, X509_R_KEY_TYPE_MISMATCH].contains(postern_err_get_reason(code))
        }
    }

    /// Drains OpenSSL's error queue into one message.
    static func lastError(_ what: String) -> TLSError {
        TLSError("\(what): \(drainErrorQueue() ?? "unknown OpenSSL error")")
    }

    static func drainErrorQueue() -> String? {
        var parts: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            let text = buffer.withUnsafeBufferPointer { ptr in
                String(decoding: ptr.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
            parts.append(text)
        }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
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
