internal import COpenSSL
internal import CPosternShims
import Glibc

/// One TLS connection driven through memory: ciphertext in and out as bytes, no socket.
///
/// The owner feeds what it read from the network with `feed`, pulls plaintext with `readPlaintext`,
/// pushes plaintext with `write`, and sends whatever `takeOutgoing` returns. OpenSSL reads and writes the
/// ciphertext through one BIO of `EngineBIO`'s, which works on the engine's two byte arrays; an array is let
/// go as soon as it is drained, so an idle connection holds no ciphertext buffer. Not thread-safe: an engine
/// belongs to one session and is used on that session's queue only.
public final class TLSEngine {
    private let ssl: OpaquePointer
    private let context: TLSContext
    /// Ciphertext fed and not yet read by OpenSSL: the bytes from `incomingStart` on.
    private var incoming: [UInt8] = []
    private var incomingStart = 0
    /// Ciphertext OpenSSL wrote, waiting for `takeOutgoing`.
    private var outgoing: [UInt8] = []
    public private(set) var handshakeComplete = false
    /// Set once the peer's close_notify was read.
    public private(set) var receivedCloseNotify = false

    /// The outcome of reading plaintext.
    public enum ReadResult: Equatable {
        /// This many bytes of plaintext were appended.
        case data(Int)
        /// More ciphertext is needed.
        case wantMore
        /// The peer sent close_notify.
        case closed
    }

    /// Creates an engine on `context`. For a client-role context, `serverName` is sent as SNI (unless
    /// it is an IP address) and checked against the certificate when the context verifies peers (or is the
    /// name the context's pins are checked for); `session` is offered for resumption.
    public init(context: TLSContext, serverName: String? = nil, session: TLSClientSession? = nil) throws(TLSError) {
        guard let ssl = SSL_new(context.ctx) else { throw TLSContext.lastError("SSL_new") }
        self.ssl = ssl
        self.context = context
        // Every stored property is set by now, so a throw runs deinit, which frees `ssl`.
        guard let bio = EngineBIO.make(for: self) else { throw TLSContext.lastError("BIO_new") }
        // The same BIO both ways: SSL_set_bio takes the one reference.
        SSL_set_bio(ssl, bio, bio)
        if context.isServer {
            SSL_set_accept_state(ssl)
        } else {
            SSL_set_connect_state(ssl)
            if let session { _ = SSL_set_session(ssl, session.session) }
            if let alpn = context.offeredProtocol, postern_ssl_set_alpn(ssl, alpn) != 1 {
                throw TLSContext.lastError("ALPN \(alpn)")
            }
            if !context.pins.isEmpty {
                // Every stored property is set by now, so a throw runs deinit, which frees `ssl`.
                guard let name = serverName, !name.isEmpty else { throw TLSError("pins need the backend's name") }
                let isIP = TLSEngine.isIPAddress(name)
                if !isIP { _ = postern_ssl_set_host_name(ssl, name) }
                try context.enablePins(on: ssl, serverName: name, isIP: isIP)
            } else if let name = serverName, !name.isEmpty {
                let isIP = TLSEngine.isIPAddress(name)
                if !isIP { _ = postern_ssl_set_host_name(ssl, name) }
                if context.verifiesPeer {
                    let param = SSL_get0_param(ssl)
                    let ok =
                        isIP ? X509_VERIFY_PARAM_set1_ip_asc(param, name) : X509_VERIFY_PARAM_set1_host(param, name, 0)
                    // Every stored property is set by now, so a throw runs deinit, which frees `ssl`.
                    guard ok == 1 else { throw TLSContext.lastError("host name \(name)") }
                }
            }
        }
    }

    deinit { SSL_free(ssl) }  // frees the BIO too

    static func isIPAddress(_ name: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, name, &v4) == 1 || inet_pton(AF_INET6, name, &v6) == 1
    }

    /// Hands ciphertext read from the network to OpenSSL.
    public func feed(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        if incomingStart > 0 {
            incoming.removeFirst(incomingStart)
            incomingStart = 0
        }
        incoming.append(contentsOf: bytes)
    }

    /// Ciphertext fed and not yet read by OpenSSL.
    var incomingCount: Int { incoming.count - incomingStart }

    /// The BIO's read: copies fed ciphertext into `buffer`; the array goes once it is read to its end.
    func takeIncoming(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let count = min(buffer.count, incomingCount)
        guard count > 0 else { return 0 }
        incoming.withUnsafeBytes { source in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[incomingStart..<incomingStart + count]))
        }
        incomingStart += count
        if incomingStart == incoming.count {
            incoming = []
            incomingStart = 0
        }
        return count
    }

    /// The BIO's write.
    func appendOutgoing(_ bytes: UnsafeRawBufferPointer) {
        outgoing.append(contentsOf: bytes)
    }

    /// Advances the handshake. Returns true once it is complete.
    @discardableResult
    public func handshake() throws(TLSError) -> Bool {
        if handshakeComplete { return true }
        ERR_clear_error()
        let rc = SSL_do_handshake(ssl)
        if rc == 1 {
            handshakeComplete = true
            return true
        }
        try check(rc, during: "handshake")
        return false
    }

    /// Decrypts what is available into `buffer` (filling it at most); `.data(n)` means `n` bytes
    /// were written at its start. The hot path: no allocation.
    public func readPlaintext(into buffer: UnsafeMutableRawBufferPointer) throws(TLSError) -> ReadResult {
        if !handshakeComplete {
            guard try handshake() else { return .wantMore }
        }
        guard let base = buffer.baseAddress else { return .wantMore }
        var total = 0
        while total < buffer.count {
            ERR_clear_error()
            let rc = SSL_read(ssl, base + total, Int32(min(buffer.count - total, 1 << 20)))
            if rc > 0 {
                total += Int(rc)
                continue
            }
            let err = SSL_get_error(ssl, rc)
            if err == SSL_ERROR_ZERO_RETURN {
                receivedCloseNotify = true
                return total > 0 ? .data(total) : .closed
            }
            try check(rc, error: err, during: "read")
            break
        }
        return total > 0 ? .data(total) : .wantMore
    }

    /// Decrypts what is available, appending plaintext to `output` (at most `limit` bytes at a time).
    public func readPlaintext(into output: inout [UInt8], limit: Int = 65536) throws(TLSError) -> ReadResult {
        var scratch = [UInt8](repeating: 0, count: limit)
        let result = scratch.withUnsafeMutableBytes { buffer in
            Result { () throws(TLSError) in try readPlaintext(into: buffer) }
        }
        if case .success(.data(let count)) = result { output.append(contentsOf: scratch[..<count]) }
        return try result.get()
    }

    /// Encrypts plaintext; the ciphertext waits in `takeOutgoing`.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(TLSError) {
        var offset = 0
        while offset < bytes.count {
            ERR_clear_error()
            let rc = SSL_write(ssl, bytes.baseAddress! + offset, Int32(min(bytes.count - offset, 1 << 20)))
            if rc <= 0 {
                try check(rc, during: "write")
                throw TLSError("TLS write before the handshake finished")
            }
            offset += Int(rc)
        }
    }

    /// Sends a TLS 1.3 KeyUpdate now (its record waits in `takeOutgoing`); with `requestPeerUpdate` the peer
    /// must answer with a KeyUpdate of its own. Fails before the handshake finished and on TLS 1.2.
    public func updateKeys(requestPeerUpdate: Bool) throws(TLSError) {
        ERR_clear_error()
        let type = requestPeerUpdate ? SSL_KEY_UPDATE_REQUESTED : SSL_KEY_UPDATE_NOT_REQUESTED
        guard handshakeComplete, SSL_key_update(ssl, type) == 1 else { throw TLSContext.lastError("TLS key update") }
        let rc = SSL_do_handshake(ssl)
        if rc != 1 { try check(rc, during: "key update") }
    }

    /// Queues a close_notify alert.
    public func shutdown() {
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
        ERR_clear_error()
    }

    /// Bytes of ciphertext waiting to be sent.
    public var outgoingCount: Int { outgoing.count }

    /// Bytes the engine holds allocated for ciphertext either way: none once what was fed was read by
    /// OpenSSL and what it wrote was taken (a partial record is then in OpenSSL's own record buffer).
    public var bufferCapacity: Int { incoming.capacity + outgoing.capacity }

    /// Moves all pending ciphertext to the end of `output` (into an empty `output` without a copy); the
    /// engine keeps no buffer afterwards.
    public func takeOutgoing(into output: inout [UInt8]) {
        guard !outgoing.isEmpty else { return }
        if output.isEmpty {
            swap(&output, &outgoing)
        } else {
            output.append(contentsOf: outgoing)
        }
        outgoing = []
    }

    /// What the handshake agreed on; nil before it finished.
    public var sessionInfo: TLSSessionInfo? {
        guard handshakeComplete else { return nil }
        let version = TLSNameTable.intern(SSL_get_version(ssl))
        let cipher = SSL_get_current_cipher(ssl).map { TLSNameTable.intern(SSL_CIPHER_get_name($0)) } ?? "none"
        let serverName = context.isServer ? SSL_get_servername(ssl, Int32(TLSEXT_NAMETYPE_host_name)) : nil
        let peer = SSL_get0_peer_certificate(ssl).map { TLSCertificateInfo.subject(of: $0) }
        return TLSSessionInfo(
            version: version, cipher: cipher, resumed: SSL_session_reused(ssl) == 1,
            serverName: serverName.map { String(cString: $0) }, peerSubject: peer, alpn: selectedProtocol)
    }

    /// The protocol ALPN agreed on, if any.
    public var selectedProtocol: String? {
        var data: UnsafePointer<UInt8>?
        var length: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &data, &length)
        guard let data, length > 0 else { return nil }
        return String(decoding: UnsafeBufferPointer(start: data, count: Int(length)), as: UTF8.self)
    }

    /// The peer's ephemeral key-exchange key (client role): type and bits, e.g. `("X25519", 253)`.
    public var peerTemporaryKey: (type: String, bits: Int)? {
        var name: UnsafePointer<CChar>?
        let bits = postern_ssl_get_tmp_key_bits(ssl, &name)
        guard bits > 0, let name else { return nil }
        return (String(cString: name), Int(bits))
    }

    /// The peer's certificate (leaf), as a report.
    public var peerCertificate: TLSCertificateInfo? {
        SSL_get0_peer_certificate(ssl).map { TLSCertificateInfo($0, path: "", serverNames: []) }
    }

    /// The session to offer when connecting again (client role); nil until it can be resumed (in TLS 1.3
    /// after the server's ticket was read).
    public var resumableSession: TLSClientSession? {
        guard let session = SSL_get1_session(ssl) else { return nil }
        guard SSL_SESSION_is_resumable(session) == 1 else {
            SSL_SESSION_free(session)
            return nil
        }
        return TLSClientSession(session: session)
    }

    private func check(_ rc: Int32, during what: String) throws(TLSError) {
        try check(rc, error: SSL_get_error(ssl, rc), during: what)
    }

    private func check(_ rc: Int32, error: Int32, during what: String) throws(TLSError) {
        switch error {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return
        case SSL_ERROR_ZERO_RETURN:
            receivedCloseNotify = true
            throw TLSError("TLS \(what): the peer closed the TLS session")
        default:
            let queued = TLSContext.drainErrors()
            var message = queued?.text ?? "SSL error \(error)"
            // Without verification OpenSSL still records why the chain would fail: report it only when it
            // was checked, and only while the handshake (where it is checked) is running.
            let verify = SSL_get_verify_result(ssl)
            if context.verifiesPeer && !handshakeComplete && verify != X509_V_OK {
                message =
                    "certificate verification failed: \(String(cString: X509_verify_cert_error_string(verify))) (\(message))"
            }
            throw TLSError("TLS \(what) failed: \(message)", reason: queued?.reason, library: queued?.library)
        }
    }
}

/// A TLS session a client may offer to resume; owns its `SSL_SESSION`.
public final class TLSClientSession: @unchecked Sendable {
    let session: OpaquePointer

    init(session: OpaquePointer) { self.session = session }

    deinit { SSL_SESSION_free(session) }
}
