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
        try context.applyCommon(minVersion: settings.minVersion)
        var options = postern_op_no_renegotiation() | postern_op_no_compression()
        if settings.preferServerCiphers { options |= postern_op_cipher_server_preference() }
        _ = SSL_CTX_set_options(ctx, options)
        guard SSL_CTX_use_certificate_chain_file(ctx, settings.certificateChainPath) == 1 else {
            throw lastError("certificate \(settings.certificateChainPath)")
        }
        guard SSL_CTX_use_PrivateKey_file(ctx, settings.privateKeyPath, SSL_FILETYPE_PEM) == 1 else {
            throw lastError("private key \(settings.privateKeyPath)")
        }
        guard SSL_CTX_check_private_key(ctx) == 1 else {
            throw lastError("private key \(settings.privateKeyPath) does not match the certificate")
        }
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
        try context.applyCommon(minVersion: settings.minVersion)
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

    private func applyCommon(minVersion: TLSProtocolVersion) throws(TLSError) {
        let version = minVersion == .tls1_3 ? postern_tls1_3_version() : postern_tls1_2_version()
        guard postern_ssl_ctx_set_min_proto(ctx, version) == 1 else { throw TLSContext.lastError("min_version") }
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
