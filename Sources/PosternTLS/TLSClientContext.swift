internal import COpenSSL
internal import CPosternShims

extension TLSContext {
    /// Builds the context used to connect to backends.
    ///
    /// With `verify`, the chain must lead to a CA of `caFile`/`caPath` (or the system store) and name the host.
    /// With pins, OpenSSL's DANE code checks them on every connection, whether or not `verify` is on: a usage 3
    /// pin authenticates the backend's own certificate or key (no CA, no name check), a usage 2 pin a trust
    /// anchor in the chain it sends (the name is checked), usages 0 and 1 add to the CA check.
    public static func client(_ settings: ClientTLSSettings) throws(TLSError) -> TLSContext {
        for pin in settings.pins { try checkPin(pin, verify: settings.verify) }
        guard let ctx = SSL_CTX_new(TLS_client_method()) else { throw lastError("SSL_CTX_new") }
        let verifies = settings.verify || !settings.pins.isEmpty
        let context = TLSContext(ctx: ctx, isServer: false, verifiesPeer: verifies, pins: settings.pins)
        context.clientSettings = settings
        try context.applyCommon(minVersion: settings.minVersion, maxVersion: settings.maxVersion)
        _ = SSL_CTX_set_options(ctx, postern_op_no_renegotiation() | postern_op_no_compression())
        try context.applyCiphers(
            ciphers: settings.ciphers, ciphersuites: settings.ciphersuites, groups: settings.groups, side: "backend ")
        switch (settings.certificateChainPath, settings.privateKeyPath) {
        case (let chain?, let key?):
            context.certificates.append(try context.loadCertificate(chainPath: chain, keyPath: key, serverNames: []))
        case (nil, nil):
            break
        default:
            throw TLSError("a client certificate needs both the certificate chain and its key")
        }
        if settings.verify {
            if settings.caFile != nil || settings.caPath != nil {
                guard SSL_CTX_load_verify_locations(ctx, settings.caFile, settings.caPath) == 1 else {
                    let what = [settings.caFile.map { "CA file \($0)" }, settings.caPath.map { "CA folder \($0)" }]
                    throw lastError(what.compactMap { $0 }.joined(separator: ", "))
                }
            } else {
                guard SSL_CTX_set_default_verify_paths(ctx) == 1 else { throw lastError("system CA store") }
            }
        }
        SSL_CTX_set_verify(ctx, verifies ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nil)
        if !settings.pins.isEmpty {
            guard SSL_CTX_dane_enable(ctx) > 0 else { throw lastError("DANE") }
            // A pinned end-entity key is the whole authentication (RFC 7672): no name check for usage 3.
            _ = SSL_CTX_dane_set_flags(ctx, postern_dane_flag_no_ee_namechecks())
        }
        return context
    }

    /// The same client context (one shared `SSL_CTX`) whose connections offer `proto` by ALPN: `imap`, `pop3` or
    /// `managesieve`. Throws for any other protocol id.
    public func offering(applicationProtocol proto: String) throws(TLSError) -> TLSContext {
        guard !isServer, ["imap", "pop3", "managesieve"].contains(proto) else {
            throw TLSError("ALPN protocol \(proto) is not one Postern offers")
        }
        _ = SSL_CTX_up_ref(ctx)
        let copy = TLSContext(ctx: ctx, isServer: false, verifiesPeer: verifiesPeer, pins: pins)
        copy.clientSettings = clientSettings
        copy.certificates = certificates
        copy.offeredProtocol = proto
        return copy
    }

    private static func checkPin(_ pin: TLSAPin, verify: Bool) throws(TLSError) {
        guard pin.usage <= 3, pin.selector <= 1, pin.matchingType <= 2 else {
            throw TLSError("pin \(pin): usage must be 0-3, selector 0-1 and matching type 0-2")
        }
        let lengths: [UInt8: Int] = [1: 32, 2: 64]
        if let length = lengths[pin.matchingType], pin.data.count != length {
            throw TLSError("pin \(pin): matching type \(pin.matchingType) needs \(length) bytes, not \(pin.data.count)")
        }
        guard !pin.data.isEmpty else { throw TLSError("pin \(pin): no data") }
        if pin.usage < 2 && !verify {
            throw TLSError("pin \(pin): usage \(pin.usage) constrains the CA check, which verify: false turns off")
        }
    }

    /// Enables DANE with this context's pins on one connection to `serverName`.
    func enablePins(on ssl: OpaquePointer, serverName: String, isIP: Bool) throws(TLSError) {
        guard SSL_dane_enable(ssl, serverName) > 0 else { throw TLSContext.lastError("DANE for \(serverName)") }
        if isIP {
            // SSL_dane_enable made the address the SNI name and a DNS reference identity: neither is right.
            _ = postern_ssl_set_host_name(ssl, nil)
            let param = SSL_get0_param(ssl)
            guard X509_VERIFY_PARAM_set1_host(param, nil, 0) == 1, X509_VERIFY_PARAM_set1_ip_asc(param, serverName) == 1
            else { throw TLSContext.lastError("host name \(serverName)") }
        }
        for pin in pins {
            let added = pin.data.withUnsafeBufferPointer { data in
                SSL_dane_tlsa_add(ssl, pin.usage, pin.selector, pin.matchingType, data.baseAddress, data.count)
            }
            guard added > 0 else { throw TLSContext.lastError("pin \(pin)") }
        }
    }
}
