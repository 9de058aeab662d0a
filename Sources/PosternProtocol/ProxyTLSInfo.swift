/// What the sender knew of the client's TLS (PP2_TYPE_SSL with its version and cipher sub-TLVs).
public struct ProxyTLSInfo: Sendable, Equatable {
    /// The `client` bit field of PP2_TYPE_SSL.
    public struct ClientFlags: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// PP2_CLIENT_SSL: the client connected over TLS.
        public static let ssl = ClientFlags(rawValue: 0x01)
        /// PP2_CLIENT_CERT_CONN: it sent a certificate on this connection.
        public static let certificateOnConnection = ClientFlags(rawValue: 0x02)
        /// PP2_CLIENT_CERT_SESS: it sent a certificate at least once in this TLS session.
        public static let certificateInSession = ClientFlags(rawValue: 0x04)
    }

    public var client: ClientFlags
    /// Zero when the client presented a certificate and it was verified, non-zero otherwise.
    public var verify: UInt32
    /// PP2_SUBTYPE_SSL_VERSION, e.g. `TLSv1.3`.
    public var version: String?
    /// PP2_SUBTYPE_SSL_CIPHER, e.g. `TLS_AES_256_GCM_SHA384`.
    public var cipher: String?

    public init(client: ClientFlags = .ssl, verify: UInt32 = 1, version: String? = nil, cipher: String? = nil) {
        self.client = client
        self.verify = verify
        self.version = version
        self.cipher = cipher
    }

    /// Decodes the value of a PP2_TYPE_SSL TLV; nil when it is too short or its sub-TLVs overrun it.
    init?(tlvValue value: [UInt8]) {
        guard value.count >= 5, let subTLVs = ProxyTLV.parseList(value[5...]) else { return nil }
        client = ClientFlags(rawValue: value[0])
        verify = value[1...4].reduce(0) { $0 << 8 | UInt32($1) }
        version = subTLVs.first { $0.type == ProxyTLV.sslVersion }.flatMap { ProxyTLV.text($0.value) }
        cipher = subTLVs.first { $0.type == ProxyTLV.sslCipher }.flatMap { ProxyTLV.text($0.value) }
    }
}
