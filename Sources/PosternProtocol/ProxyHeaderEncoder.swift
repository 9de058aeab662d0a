/// Writes the PROXY header Postern sends to a backend before anything else (`send_proxy: v1 | v2`).
public enum ProxyHeaderEncoder {
    /// Longest PP2_TYPE_UNIQUE_ID value the specification allows.
    public static let maxUniqueIDBytes = 128

    /// A v1 line. `.local` and `.unknown` give `PROXY UNKNOWN\r\n`. When the two addresses are of
    /// different families, an IPv4 one is written as IPv4-mapped IPv6 and the line says TCP6.
    public static func v1(_ addressing: ProxyHeader.Addressing) -> [UInt8] {
        guard case .tcp(var source, var destination) = addressing else { return Array("PROXY UNKNOWN\r\n".utf8) }
        (source, destination) = sameFamily(source, destination)
        let family = source.isIPv4 ? "TCP4" : "TCP6"
        let line =
            "PROXY \(family) \(source.addressText) \(destination.addressText) \(source.port) \(destination.port)\r\n"
        return Array(line.utf8)
    }

    /// A v2 header: LOCAL for `.local` (no TLVs), PROXY with AF_UNSPEC for `.unknown`, TCP over
    /// IPv4 or IPv6 for `.tcp` (mixed families as in ``v1(_:)``). TLVs follow in this order:
    /// PP2_TYPE_AUTHORITY (the client's SNI name), PP2_TYPE_UNIQUE_ID (the session id) and
    /// PP2_TYPE_SSL with PP2_SUBTYPE_SSL_VERSION and PP2_SUBTYPE_SSL_CIPHER (the client's TLS).
    /// Every text value is refused if it carries a control character.
    public static func v2(
        _ addressing: ProxyHeader.Addressing, tls: ProxyTLSInfo? = nil, authority: String? = nil,
        uniqueID: String? = nil
    ) throws(ProxyEncodeError) -> [UInt8] {
        var out = ProxyHeaderParser.v2Signature
        guard addressing != .local else { return out + [0x20, 0x00, 0x00, 0x00] }
        var body: [UInt8] = []
        var family: UInt8 = 0x00
        if case .tcp(var source, var destination) = addressing {
            (source, destination) = sameFamily(source, destination)
            family = source.isIPv4 ? 0x11 : 0x21
            body += source.address + destination.address
            body += [UInt8(source.port >> 8), UInt8(source.port & 0xFF)]
            body += [UInt8(destination.port >> 8), UInt8(destination.port & 0xFF)]
        }
        if let authority {
            body += try tlv(ProxyTLV.authority, text(authority, .authority))
        }
        if let uniqueID {
            let value = try text(uniqueID, .uniqueID)
            guard value.count <= maxUniqueIDBytes else { throw .tooLong(.uniqueID, bytes: value.count) }
            body += try tlv(ProxyTLV.uniqueID, value, field: .uniqueID)
        }
        if let tls {
            var value: [UInt8] = [tls.client.rawValue]
            value += [24, 16, 8, 0].map { UInt8((tls.verify >> $0) & 0xFF) }
            if let version = tls.version {
                value += try tlv(ProxyTLV.sslVersion, text(version, .tlsVersion), field: .tlsVersion)
            }
            if let cipher = tls.cipher {
                value += try tlv(ProxyTLV.sslCipher, text(cipher, .tlsCipher), field: .tlsCipher)
            }
            body += try tlv(ProxyTLV.ssl, value, field: .tlsVersion)
        }
        guard body.count <= 0xFFFF else { throw .headerTooLong(bytes: 16 + body.count) }
        out += [0x21, family, UInt8(body.count >> 8), UInt8(body.count & 0xFF)]
        return out + body
    }

    /// Both endpoints in one family: IPv4 when both are (or map to) IPv4, IPv6 otherwise.
    static func sameFamily(_ source: ProxyEndpoint, _ destination: ProxyEndpoint) -> (ProxyEndpoint, ProxyEndpoint) {
        let source4 = source.isIPv4 ? source : source.unmappedIPv4
        let destination4 = destination.isIPv4 ? destination : destination.unmappedIPv4
        if let source4, let destination4 { return (source4, destination4) }
        return (source.asIPv6, destination.asIPv6)
    }

    static func text(_ value: String, _ field: ProxyEncodeError.Field) throws(ProxyEncodeError) -> [UInt8] {
        let bytes = Array(value.utf8)
        guard bytes.allSatisfy({ $0 >= 0x20 && $0 != 0x7F }) else { throw .controlCharacter(field) }
        return bytes
    }

    static func tlv(_ type: UInt8, _ value: [UInt8], field: ProxyEncodeError.Field = .authority)
        throws(ProxyEncodeError) -> [UInt8]
    {
        guard value.count <= 0xFFFF else { throw .tooLong(field, bytes: value.count) }
        return [type, UInt8(value.count >> 8), UInt8(value.count & 0xFF)] + value
    }
}
