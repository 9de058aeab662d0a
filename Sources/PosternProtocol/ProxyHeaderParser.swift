/// Reads a PROXY protocol header (v1 or v2) from the first bytes of a connection, incrementally:
/// call it with all bytes received so far until it answers `.header` or `.invalid`.
///
/// It decides as early as it can: bytes that cannot begin a header are refused at once, and a v2
/// length over `maxV2Length` is refused before its body arrives, so the caller's buffer stays bounded
/// (at most `max(107, maxV2Length)` bytes). Pure value; no I/O.
public struct ProxyHeaderParser: Sendable {
    /// Longest v1 line, CRLF included.
    public static let v1MaxLength = 107
    /// The 12-byte v2 signature.
    public static let v2Signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]
    static let v1Prefix = Array("PROXY ".utf8)

    /// Largest v2 header accepted (16 fixed bytes, addresses and TLVs).
    public var maxV2Length: Int

    /// `maxV2Length` is raised to 232 at least (a v2 header with AF_UNIX addresses).
    public init(maxV2Length: Int = 2048) {
        self.maxV2Length = max(maxV2Length, 16 + 216)
    }

    public func parse(_ bytes: [UInt8]) -> ProxyParseResult {
        parse(bytes[...])
    }

    /// Parses from the start of `bytes`; `consumed` counts from `bytes.startIndex`.
    public func parse(_ bytes: ArraySlice<UInt8>) -> ProxyParseResult {
        let data = Array(bytes)
        if Self.startsLike(data, Self.v2Signature) {
            return data.count < Self.v2Signature.count ? .needMore : parseV2(data)
        }
        if Self.startsLike(data, Self.v1Prefix) {
            return data.count < Self.v1Prefix.count ? .needMore : parseV1(data)
        }
        return .invalid(.notAProxyHeader)
    }

    /// Whether `data` and `signature` agree on their common length.
    static func startsLike(_ data: [UInt8], _ signature: [UInt8]) -> Bool {
        zip(data, signature).allSatisfy { $0 == $1 }
    }

    // MARK: v1

    func parseV1(_ data: [UInt8]) -> ProxyParseResult {
        var lineEnd: Int?
        for index in 0..<min(data.count, Self.v1MaxLength) {
            let byte = data[index]
            if byte == 0x0D {
                guard index + 1 < data.count else { break }
                guard data[index + 1] == 0x0A else { return .invalid(.badLineEnding) }
                lineEnd = index
                break
            }
            if byte == 0x0A { return .invalid(.badLineEnding) }
            if byte < 0x20 || byte > 0x7E { return .invalid(.badCharacter) }
        }
        guard let lineEnd, lineEnd + 2 <= Self.v1MaxLength else {
            return data.count >= Self.v1MaxLength ? .invalid(.lineTooLong) : .needMore
        }
        let fields = data[..<lineEnd].split(separator: 0x20, omittingEmptySubsequences: false).map {
            String(decoding: $0, as: UTF8.self)
        }
        let consumed = lineEnd + 2
        guard fields.count >= 2 else { return .invalid(.badProtocol) }
        switch fields[1] {
        case "UNKNOWN":
            return .header(ProxyHeader(version: .v1, addressing: .unknown), consumed: consumed)
        case "TCP4", "TCP6":
            guard fields.count == 6 else { return .invalid(.badProtocol) }
            let isV4 = fields[1] == "TCP4"
            guard let sourceAddress = Self.v1Address(fields[2], ipv4: isV4),
                let destinationAddress = Self.v1Address(fields[3], ipv4: isV4)
            else { return .invalid(.badAddress) }
            guard let sourcePort = Self.v1Port(fields[4]), let destinationPort = Self.v1Port(fields[5]) else {
                return .invalid(.badPort)
            }
            guard let source = ProxyEndpoint(address: sourceAddress, port: sourcePort),
                let destination = ProxyEndpoint(address: destinationAddress, port: destinationPort)
            else { return .invalid(.badAddress) }
            return .header(
                ProxyHeader(version: .v1, addressing: .tcp(source: source, destination: destination)),
                consumed: consumed)
        default:
            return .invalid(.badProtocol)
        }
    }

    /// IPv4: four decimal numbers 0...255 without leading zeros. IPv6: text with colons.
    static func v1Address(_ text: String, ipv4: Bool) -> [UInt8]? {
        if ipv4 {
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 4 else { return nil }
            var bytes: [UInt8] = []
            for part in parts {
                guard let number = decimal(part, maxDigits: 3), number <= 255 else { return nil }
                bytes.append(UInt8(number))
            }
            return bytes
        }
        guard text.contains(":"), !text.contains("%"), let bytes = ProxyEndpoint.parseAddress(text),
            bytes.count == 16
        else { return nil }
        return bytes
    }

    static func v1Port(_ text: String) -> UInt16? {
        guard let number = decimal(Substring(text), maxDigits: 5), number <= 65535 else { return nil }
        return UInt16(number)
    }

    /// A decimal number of at most `maxDigits` ASCII digits, without a leading zero (except `0`).
    static func decimal(_ text: Substring, maxDigits: Int) -> Int? {
        let utf8 = Array(text.utf8)
        guard !utf8.isEmpty, utf8.count <= maxDigits, utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            return nil
        }
        guard utf8.count == 1 || utf8[0] != 0x30 else { return nil }
        return utf8.reduce(0) { $0 * 10 + Int($1 - 0x30) }
    }

    // MARK: v2

    func parseV2(_ data: [UInt8]) -> ProxyParseResult {
        guard data.count >= 13 else { return .needMore }
        let versionCommand = data[12]
        guard versionCommand >> 4 == 2 else { return .invalid(.unsupportedVersion(versionCommand >> 4)) }
        let command = versionCommand & 0x0F
        guard command <= 1 else { return .invalid(.badCommand(command)) }
        guard data.count >= 14 else { return .needMore }
        let family = data[13]
        let addressLengths: [UInt8: Int] = [0: 0, 1: 12, 2: 36, 3: 216]
        guard let addressLength = addressLengths[family >> 4], family & 0x0F <= 2 else {
            return .invalid(.badFamily(family))
        }
        guard data.count >= 16 else { return .needMore }
        let length = Int(data[14]) << 8 | Int(data[15])
        let total = 16 + length
        guard total <= maxV2Length else { return .invalid(.headerTooLong(total)) }
        guard data.count >= total else { return .needMore }
        guard command == 1 else {
            // LOCAL: the block, family included, is ignored.
            return .header(ProxyHeader(version: .v2, addressing: .local), consumed: total)
        }
        guard length >= addressLength else { return .invalid(.addressBlockTooShort) }
        guard let tlvs = ProxyTLV.parseList(data[(16 + addressLength)..<total]),
            tlvs.allSatisfy({ $0.type != ProxyTLV.ssl || ProxyTLSInfo(tlvValue: $0.value) != nil })
        else { return .invalid(.badTLV) }
        var addressing = ProxyHeader.Addressing.unknown
        if family == 0x11 || family == 0x21 {
            let size = family == 0x11 ? 4 : 16
            let ports = 16 + 2 * size
            let sourcePort = UInt16(data[ports]) << 8 | UInt16(data[ports + 1])
            let destinationPort = UInt16(data[ports + 2]) << 8 | UInt16(data[ports + 3])
            if let source = ProxyEndpoint(address: data[16..<(16 + size)], port: sourcePort),
                let destination = ProxyEndpoint(address: data[(16 + size)..<ports], port: destinationPort)
            {
                addressing = .tcp(source: source, destination: destination)
            }
        }
        return .header(ProxyHeader(version: .v2, addressing: addressing, tlvs: tlvs), consumed: total)
    }
}

/// What ``ProxyHeaderParser`` made of the bytes received so far.
public enum ProxyParseResult: Sendable, Equatable {
    /// Everything so far is a valid beginning; read more (within the header deadline).
    case needMore
    /// A complete header, taking the first `consumed` bytes; the rest is the client's own data.
    case header(ProxyHeader, consumed: Int)
    /// Not acceptable: drop the connection.
    case invalid(ProxyHeaderError)
}
