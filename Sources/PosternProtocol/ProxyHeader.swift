/// A parsed PROXY protocol header (HAProxy's v1 text line or v2 binary block): where the client
/// really connected from, and what the proxy in front of us knew about its TLS.
public struct ProxyHeader: Sendable, Equatable {
    /// Which format the header was written in.
    public enum Version: Sendable, Equatable {
        case v1, v2
    }

    /// What the header says about the connection's endpoints.
    public enum Addressing: Sendable, Equatable {
        /// v2 LOCAL: the proxy's own connection (a health check); use the socket's addresses.
        case local
        /// v1 UNKNOWN, or v2 PROXY with a family or transport we do not take (AF_UNSPEC, AF_UNIX,
        /// datagrams): the sender relays a client it cannot describe; use the socket's addresses.
        case unknown
        /// A relayed TCP connection: the client (`source`) and the address it connected to (`destination`).
        case tcp(source: ProxyEndpoint, destination: ProxyEndpoint)
    }

    public var version: Version
    public var addressing: Addressing
    /// The v2 TLVs in the order sent (empty for v1 and for v2 LOCAL).
    public var tlvs: [ProxyTLV]

    public init(version: Version, addressing: Addressing, tlvs: [ProxyTLV] = []) {
        self.version = version
        self.addressing = addressing
        self.tlvs = tlvs
    }

    /// The relayed client, when the header names one.
    public var source: ProxyEndpoint? {
        if case .tcp(let source, _) = addressing { return source }
        return nil
    }

    /// The address the client connected to, when the header names one.
    public var destination: ProxyEndpoint? {
        if case .tcp(_, let destination) = addressing { return destination }
        return nil
    }

    /// PP2_TYPE_AUTHORITY (the client's SNI name) when present as UTF-8 without control characters.
    public var authority: String? {
        tlvs.first { $0.type == ProxyTLV.authority }.flatMap { ProxyTLV.text($0.value) }
    }

    /// PP2_TYPE_UNIQUE_ID, the sender's connection id (opaque bytes, up to 128).
    public var uniqueID: [UInt8]? {
        tlvs.first { $0.type == ProxyTLV.uniqueID }?.value
    }

    /// The PP2_TYPE_SSL TLV, decoded; nil when absent or malformed.
    public var tls: ProxyTLSInfo? {
        tlvs.first { $0.type == ProxyTLV.ssl }.flatMap { ProxyTLSInfo(tlvValue: $0.value) }
    }
}

/// One v2 type-length-value entry.
public struct ProxyTLV: Sendable, Equatable {
    public static let alpn: UInt8 = 0x01
    public static let authority: UInt8 = 0x02
    public static let crc32c: UInt8 = 0x03
    public static let noop: UInt8 = 0x04
    public static let uniqueID: UInt8 = 0x05
    public static let ssl: UInt8 = 0x20
    public static let sslVersion: UInt8 = 0x21
    public static let sslCN: UInt8 = 0x22
    public static let sslCipher: UInt8 = 0x23
    public static let netns: UInt8 = 0x30

    public var type: UInt8
    public var value: [UInt8]

    public init(type: UInt8, value: [UInt8]) {
        self.type = type
        self.value = value
    }

    /// Splits a run of TLVs; nil when one overruns the bytes.
    static func parseList(_ bytes: ArraySlice<UInt8>) -> [ProxyTLV]? {
        var tlvs: [ProxyTLV] = []
        var index = bytes.startIndex
        while index < bytes.endIndex {
            guard bytes.endIndex - index >= 3 else { return nil }
            let length = Int(bytes[index + 1]) << 8 | Int(bytes[index + 2])
            let start = index + 3
            guard bytes.endIndex - start >= length else { return nil }
            tlvs.append(ProxyTLV(type: bytes[index], value: Array(bytes[start..<start + length])))
            index = start + length
        }
        return tlvs
    }

    /// Text of a value when it is UTF-8 with no control character (C0, DEL) in it.
    static func text(_ value: [UInt8]) -> String? {
        guard value.allSatisfy({ $0 >= 0x20 && $0 != 0x7F }) else { return nil }
        return String(validating: value, as: UTF8.self)
    }
}

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
