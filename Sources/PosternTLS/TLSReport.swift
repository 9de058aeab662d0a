internal import COpenSSL
internal import CPosternShims
import Glibc

/// What a loaded certificate says, for `check-config` and start-up warnings.
public struct TLSCertificateInfo: Sendable, Equatable {
    /// The PEM file it came from.
    public var path: String
    /// Subject and issuer in RFC 2253 form (`CN=mail.example.org,O=Example`).
    public var subject: String
    public var issuer: String
    /// `RSA`, `ECDSA`, `Ed25519`, ...
    public var keyType: String
    public var keyBits: Int
    /// DNS names and IP addresses of the subjectAltName extension.
    public var alternativeNames: [String]
    /// Seconds since 1970 at which the certificate expires.
    public var notAfter: Double
    /// The SNI names it is presented for; empty for a default certificate.
    public var serverNames: [String]

    init(_ x509: OpaquePointer, path: String, serverNames: [String]) {
        self.path = path
        self.serverNames = serverNames
        subject = TLSCertificateInfo.name(X509_get_subject_name(x509))
        issuer = TLSCertificateInfo.name(X509_get_issuer_name(x509))
        let key = X509_get0_pubkey(x509)
        keyBits = key.map { Int(EVP_PKEY_get_bits($0)) } ?? 0
        switch key.map(EVP_PKEY_get_base_id) {
        case EVP_PKEY_RSA: keyType = "RSA"
        case EVP_PKEY_EC: keyType = "ECDSA"
        case let other?: keyType = key.flatMap { EVP_PKEY_get0_type_name($0) }.map { String(cString: $0) } ?? "\(other)"
        case nil: keyType = "unknown"
        }
        alternativeNames = TLSCertificateInfo.alternativeNames(x509)
        var parts = tm()
        if let time = X509_get0_notAfter(x509), ASN1_TIME_to_tm(time, &parts) == 1 {
            notAfter = Double(timegm(&parts))
        } else {
            notAfter = 0
        }
    }

    /// Days from `now` (seconds since 1970) until expiry, rounded down; negative once expired.
    public func daysLeft(now: Double) -> Int {
        Int(((notAfter - now) / 86400).rounded(.down))
    }

    /// The subject of a peer's certificate.
    static func subject(of x509: OpaquePointer) -> String {
        name(X509_get_subject_name(x509))
    }

    private static func name(_ name: OpaquePointer?) -> String {
        guard let name, let bio = BIO_new(BIO_s_mem()) else { return "" }
        defer { BIO_free(bio) }
        guard X509_NAME_print_ex(bio, name, 0, postern_xn_flag_rfc2253()) >= 0 else { return "" }
        return readAll(bio)
    }

    static func readAll(_ bio: OpaquePointer) -> String {
        let length = Int(BIO_ctrl_pending(bio))
        guard length > 0 else { return "" }
        var bytes = [UInt8](repeating: 0, count: length)
        let got = BIO_read(bio, &bytes, Int32(length))
        return String(decoding: bytes.prefix(max(0, Int(got))), as: UTF8.self)
    }

    private static func alternativeNames(_ x509: OpaquePointer) -> [String] {
        guard let raw = X509_get_ext_d2i(x509, NID_subject_alt_name, nil, nil) else { return [] }
        let names = OpaquePointer(raw)
        defer { GENERAL_NAMES_free(names) }
        var result: [String] = []
        for index in 0..<OPENSSL_sk_num(names) {
            guard let item = OPENSSL_sk_value(names, index) else { continue }
            let general = item.assumingMemoryBound(to: GENERAL_NAME.self).pointee
            switch general.type {
            case GEN_DNS:
                if let text = general.d.dNSName { result.append("DNS:" + string(text)) }
            case GEN_IPADD:
                if let octets = general.d.iPAddress { result.append("IP:" + address(octets)) }
            default:
                break
            }
        }
        return result
    }

    private static func bytes(_ string: UnsafeMutablePointer<ASN1_STRING>) -> [UInt8] {
        let count = Int(ASN1_STRING_length(string))
        guard count > 0, let data = ASN1_STRING_get0_data(string) else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: count))
    }

    private static func string(_ string: UnsafeMutablePointer<ASN1_STRING>) -> String {
        String(decoding: bytes(string), as: UTF8.self)
    }

    private static func address(_ octets: UnsafeMutablePointer<ASN1_STRING>) -> String {
        let raw = bytes(octets)
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = raw.count == 4 ? AF_INET : raw.count == 16 ? AF_INET6 : -1
        guard family >= 0, inet_ntop(family, raw, &buffer, socklen_t(buffer.count)) != nil else {
            return raw.map { String($0, radix: 16).leftPadded(to: 2) }.joined(separator: ":")
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// The effective TLS policy of a server context, as `check-config` prints it.
public struct TLSPolicyReport: Sendable, Equatable {
    /// Protocol versions accepted, lowest first (`TLSv1.2`, `TLSv1.3`).
    public var versions: [String]
    /// TLS 1.2 ciphers usable with the loaded certificates, in the server's preference order.
    public var tls12Ciphers: [String]
    /// TLS 1.3 cipher suites in preference order.
    public var tls13Ciphersuites: [String]
    /// Key-exchange groups in preference order; nil when OpenSSL's default list applies.
    public var groups: [String]?
    public var preferServerCiphers: Bool
    /// `auto (RFC 7919)` or the PEM file and its size.
    public var dhParams: String
    /// `tickets (key rotates every N s)`, `cache (N sessions)` or `off`, with the lifetime.
    public var resumption: String
    /// `none`, `optional (CA FILE)` or `required (CA FILE)`.
    public var clientCertificates: String
    /// Every certificate: the default ones first, then those chosen by SNI.
    public var certificates: [TLSCertificateInfo]
}

extension TLSContext {
    /// The effective policy of a server context (nil for a client context).
    public var policyReport: TLSPolicyReport? {
        guard isServer, let settings = serverSettings, let ssl = SSL_new(ctx) else { return nil }
        defer { SSL_free(ssl) }
        var tls12: [String] = []
        var tls13: [String] = []
        let keyTypes = Set(certificates.map(\.keyType))
        if let list = SSL_get1_supported_ciphers(ssl) {
            defer { OPENSSL_sk_free(list) }
            for index in 0..<OPENSSL_sk_num(list) {
                guard let raw = OPENSSL_sk_value(list, index) else { continue }
                let cipher = OpaquePointer(raw)
                let name = String(cString: SSL_CIPHER_get_name(cipher))
                if String(cString: SSL_CIPHER_get_version(cipher)) == "TLSv1.3" {
                    tls13.append(name)
                    continue
                }
                // Only suites the loaded certificates can authenticate.
                let auth = SSL_CIPHER_get_auth_nid(cipher)
                let needs: Set<String>? = [
                    NID_auth_rsa: ["RSA"], NID_auth_ecdsa: ["ECDSA", "ED25519", "ED448"], NID_auth_dss: ["DSA"],
                ][auth]
                if auth == NID_auth_any || !(needs ?? []).isDisjoint(with: keyTypes) { tls12.append(name) }
            }
        }
        var versions = ["TLSv1.2", "TLSv1.3"]
        if settings.minVersion == .tls1_3 { versions.removeFirst() }
        if settings.maxVersion == .tls1_2 { versions.removeLast() }
        let dh: String
        if let path = settings.dhParamsPath {
            dh = "file \(path)"
        } else {
            dh = "auto (RFC 7919 group sized to the certificate key)"
        }
        let resumption: String
        switch settings.resumption {
        case .tickets:
            resumption =
                "tickets (key rotates every \(settings.ticketKeyRotation) s), lifetime \(settings.sessionLifetime) s"
        case .cache:
            resumption = "cache (\(settings.sessionCacheSize) sessions), lifetime \(settings.sessionLifetime) s"
        case .off:
            resumption = "off"
        }
        var clientCertificates = settings.clientCertificates.rawValue
        if settings.clientCertificates != .none, let ca = settings.clientCAFile { clientCertificates += " (CA \(ca))" }
        return TLSPolicyReport(
            versions: versions, tls12Ciphers: tls12, tls13Ciphersuites: tls13,
            groups: settings.groups.map { $0.split(separator: ":").map(String.init) },
            preferServerCiphers: settings.preferServerCiphers, dhParams: dh, resumption: resumption,
            clientCertificates: clientCertificates, certificates: certificates)
    }

    /// The certificates this context presents (server) or sends for mutual TLS (client).
    public var loadedCertificates: [TLSCertificateInfo] { certificates }
}
