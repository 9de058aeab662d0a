internal import COpenSSL
internal import CPosternShims

extension TLSContext {
    /// Builds the context that accepts client connections, with one more context per distinct set of SNI
    /// certificates. `ticketKeys` defaults to the process-wide ring for the settings' rotation and lifetime.
    public static func server(_ settings: ServerTLSSettings, ticketKeys: TicketKeyRing? = nil) throws(TLSError)
        -> TLSContext
    {
        try checkCertificateSettings(settings)
        let ring: TicketKeyRing? =
            settings.resumption == .tickets
            ? (ticketKeys
                ?? TicketKeyRing.shared(rotation: settings.ticketKeyRotation, lifetime: settings.sessionLifetime))
            : nil
        let defaults =
            [TLSServerCertificate(chainPath: settings.certificateChainPath, keyPath: settings.privateKeyPath)]
            + settings.certificates.filter { $0.serverNames.isEmpty }
        let primary = try makeServer(settings, certificates: defaults, ticketKeys: ring)

        // Each server name maps to the certificates that list it; names with the same list share a context.
        var byName: [String: [Int]] = [:]
        for (index, certificate) in settings.certificates.enumerated() {
            for name in Set(certificate.serverNames.map { $0.lowercased() }) { byName[name, default: []].append(index) }
        }
        var bySet: [[Int]: TLSContext] = [:]
        for (name, indices) in byName.sorted(by: { $0.key < $1.key }) {
            if let existing = bySet[indices] {
                primary.sniContexts[name] = existing
                continue
            }
            let chosen = indices.map { settings.certificates[$0] }
            let context = try makeServer(settings, certificates: chosen, ticketKeys: ring)
            bySet[indices] = context
            primary.sniContexts[name] = context
            primary.certificates += context.certificates
        }
        primary.strictSNI = settings.strictSNI
        primary.defaultNames = Set(
            primary.certificates.filter { $0.serverNames.isEmpty }.flatMap(\.alternativeNames)
                .filter { $0.hasPrefix("DNS:") }.map { $0.dropFirst(4).lowercased() })
        if !primary.sniContexts.isEmpty || primary.strictSNI {
            let arg = Unmanaged.passUnretained(primary).toOpaque()
            _ = postern_ssl_ctx_set_servername_cb(
                primary.ctx,
                { ssl, alert, arg in
                    guard let ssl, let arg else { return SSL_TLSEXT_ERR_OK }
                    guard Unmanaged<TLSContext>.fromOpaque(arg).takeUnretainedValue().switchBySNI(ssl) else {
                        alert?.pointee = postern_ssl_ad_unrecognized_name()
                        return SSL_TLSEXT_ERR_ALERT_FATAL
                    }
                    return SSL_TLSEXT_ERR_OK
                }, arg)
        }
        return primary
    }

    /// One server `SSL_CTX` with the listener's policy and the given certificates (at most one per key type).
    private static func makeServer(
        _ settings: ServerTLSSettings, certificates: [TLSServerCertificate], ticketKeys: TicketKeyRing?
    ) throws(TLSError) -> TLSContext {
        guard let ctx = SSL_CTX_new(TLS_server_method()) else { throw lastError("SSL_CTX_new") }
        let context = TLSContext(ctx: ctx, isServer: true, verifiesPeer: settings.clientCertificates != .none)
        context.serverSettings = settings
        try context.applyCommon(minVersion: settings.minVersion, maxVersion: settings.maxVersion)
        var options = postern_op_no_renegotiation() | postern_op_no_compression()
        if settings.preferServerCiphers { options |= postern_op_cipher_server_preference() }
        if settings.resumption != .tickets { options |= postern_op_no_ticket() }
        _ = SSL_CTX_set_options(ctx, options)
        for certificate in certificates {
            let info = try context.loadCertificate(
                chainPath: certificate.chainPath, keyPath: certificate.keyPath, serverNames: certificate.serverNames)
            if let clash = context.certificates.first(where: { $0.keyType == info.keyType }) {
                throw TLSError(
                    "certificates \(clash.path) and \(info.path) are both \(info.keyType) and serve the same names; "
                        + "give one certificate per key type (e.g. one RSA and one ECDSA)")
            }
            context.certificates.append(info)
        }
        guard SSL_CTX_set_cipher_list(ctx, settings.ciphers) == 1 else {
            throw lastError("ciphers \"\(settings.ciphers)\" select no cipher")
        }
        try context.applyCiphers(
            ciphers: nil, ciphersuites: settings.ciphersuites, groups: settings.groups, side: "")
        if let path = settings.dhParamsPath {
            try context.loadDHParams(path: path)
        } else {
            _ = postern_ssl_ctx_set_dh_auto(ctx, 1)
        }
        try context.applyResumption(settings, ticketKeys: ticketKeys)
        try context.applyClientCertificates(settings)
        // On every context: after an SNI switch, OpenSSL asks the new context's callback.
        if let proto = settings.applicationProtocol, postern_ssl_ctx_require_alpn(ctx, proto) != 1 {
            throw TLSError("ALPN protocol \(proto) is not one Postern serves")
        }
        return context
    }

    private static func checkCertificateSettings(_ settings: ServerTLSSettings) throws(TLSError) {
        for certificate in settings.certificates {
            for name in certificate.serverNames where !TLSContext.isValidServerName(name) {
                throw TLSError("certificate \(certificate.chainPath): '\(name)' is not a valid server name")
            }
        }
        if settings.clientCertificates != .none && settings.clientCAFile == nil {
            throw TLSError("client_certificates \(settings.clientCertificates.rawValue) needs a client CA file")
        }
    }

    /// A host name, optionally with a leading `*.` label.
    static func isValidServerName(_ name: String) -> Bool {
        var labels = name.lowercased().split(separator: ".", omittingEmptySubsequences: false)
        if labels.first == "*" { labels.removeFirst() }
        guard !labels.isEmpty else { return false }
        return labels.allSatisfy { label in
            !label.isEmpty && label.count <= 63 && label.first != "-" && label.last != "-"
                && label.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "-" }
        }
    }

    private func applyResumption(_ settings: ServerTLSSettings, ticketKeys: TicketKeyRing?) throws(TLSError) {
        // Sessions resume only where they were made: the id separates listeners with different policies.
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        let id = Array(settings.sessionIDContext.utf8)
        _ = SHA256(id, id.count, &digest)
        _ = SSL_CTX_set_session_id_context(ctx, digest, UInt32(min(digest.count, Int(SSL_MAX_SID_CTX_LENGTH))))
        _ = SSL_CTX_set_timeout(ctx, Int(settings.sessionLifetime))
        switch settings.resumption {
        case .tickets:
            _ = postern_ssl_ctx_set_session_cache_mode(ctx, postern_sess_cache_off())
            guard let ticketKeys else { return }
            self.ticketKeys = ticketKeys
            _ = SSL_CTX_set_ex_data(ctx, 0, Unmanaged.passUnretained(ticketKeys).toOpaque())
            guard SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticketKeyCallback) == 1 else {
                throw TLSContext.lastError("session ticket keys")
            }
        case .cache:
            _ = postern_ssl_ctx_set_session_cache_mode(ctx, postern_sess_cache_server())
            _ = postern_ssl_ctx_sess_set_cache_size(ctx, settings.sessionCacheSize)
        case .off:
            _ = postern_ssl_ctx_set_session_cache_mode(ctx, postern_sess_cache_off())
            _ = SSL_CTX_set_num_tickets(ctx, 0)
        }
    }

    private func applyClientCertificates(_ settings: ServerTLSSettings) throws(TLSError) {
        guard settings.clientCertificates != .none, let caFile = settings.clientCAFile else {
            SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nil)
            return
        }
        guard SSL_CTX_load_verify_locations(ctx, caFile, nil) == 1 else {
            throw TLSContext.lastError("client CA file \(caFile)")
        }
        guard let names = SSL_load_client_CA_file(caFile) else {
            throw TLSContext.lastError("client CA file \(caFile) holds no certificate")
        }
        SSL_CTX_set_client_CA_list(ctx, names)
        var mode = SSL_VERIFY_PEER
        if settings.clientCertificates == .required { mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT }
        SSL_CTX_set_verify(ctx, mode, nil)
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

    /// The SNI callback's work: switch the connection to the context serving the name it asked for. False
    /// (refuse the handshake) under `strictSNI` for a name that neither an SNI certificate nor a default
    /// certificate's DNS names cover; a client that sends no SNI is accepted.
    fileprivate func switchBySNI(_ ssl: OpaquePointer) -> Bool {
        guard let raw = SSL_get_servername(ssl, Int32(TLSEXT_NAMETYPE_host_name)) else { return true }
        let name = String(cString: raw)
        guard let target = sniContext(for: name) else { return !strictSNI || coveredByDefault(name) }
        _ = SSL_set_SSL_CTX(ssl, target.ctx)
        return true
    }

    /// True when a default certificate names `name`, exactly or by a `*.` wildcard for its first label.
    func coveredByDefault(_ name: String) -> Bool {
        var name = name.lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        if defaultNames.contains(name) { return true }
        guard let dot = name.firstIndex(of: ".") else { return false }
        return defaultNames.contains("*" + name[dot...])
    }

    /// The context for a server name: an exact match first, then a wildcard for its first label.
    func sniContext(for name: String) -> TLSContext? {
        var name = name.lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        if let exact = sniContexts[name] { return exact }
        guard let dot = name.firstIndex(of: ".") else { return nil }
        return sniContexts["*" + name[dot...]]
    }
}
