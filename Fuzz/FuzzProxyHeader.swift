// The PROXY protocol v1/v2 parser, and the encoder through it: whatever parses re-encodes (v1 and v2) to
// a header that parses to the same addresses, TLS facts, authority and unique id.
//
// Input: one control byte (the receiver's v2 length bound), then the bytes at the start of a connection.
import FuzzSupport
import PosternProtocol

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzProxyHeader(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let control = input.byte()
    let bytes = input.remainder()
    let parser = ProxyHeaderParser(maxV2Length: control & 1 == 0 ? 2048 : 16 + Int(control))
    let result = parser.parse(bytes)
    fuzzCheck(parser.parse(bytes[...]) == result, "parse of an array and of its slice differ")
    if bytes.count > 1 {
        // Parsing is by position: the same bytes behind a dropped first byte give the same answer.
        let shifted = [0xAA] + bytes
        fuzzCheck(parser.parse(shifted[1...]) == result, "parse depends on the slice's start index")
    }
    switch result {
    case .needMore:
        // The caller's buffer stays bounded: a parser that wants more has seen less than its bound.
        fuzzCheck(bytes.count < max(ProxyHeaderParser.v1MaxLength, parser.maxV2Length), "needMore past the bound")
    case .invalid:
        // Bytes that are refused stay refused whatever follows.
        fuzzCheck(
            isInvalid(parser.parse(bytes + Array("\r\n".utf8) + [UInt8](repeating: 0, count: 300))),
            "more bytes turned a refused header into another answer")
    case .header(let header, let consumed):
        checkHeader(header, consumed: consumed, bytes: bytes, parser: parser)
    }
    return 0
}

private func isInvalid(_ result: ProxyParseResult) -> Bool {
    if case .invalid = result { return true }
    return false
}

private func checkHeader(_ header: ProxyHeader, consumed: Int, bytes: [UInt8], parser: ProxyHeaderParser) {
    fuzzCheck(consumed > 0 && consumed <= bytes.count, "consumed \(consumed) of \(bytes.count) bytes")
    switch header.version {
    case .v1:
        fuzzCheck(consumed <= ProxyHeaderParser.v1MaxLength, "v1 header of \(consumed) bytes")
        fuzzCheck(header.tlvs.isEmpty, "v1 header with TLVs")
    case .v2:
        fuzzCheck(consumed <= parser.maxV2Length, "v2 header of \(consumed) bytes over the bound")
    }
    // The header is the first `consumed` bytes: what follows does not change it, and any shorter prefix
    // is only the beginning of it.
    let exact = Array(bytes[..<consumed])
    fuzzCheck(parser.parse(exact) == .header(header, consumed: consumed), "header depends on the bytes after it")
    for cut in [consumed - 1, consumed / 2, 1] where cut > 0 && cut < consumed {
        fuzzCheck(parser.parse(Array(bytes[..<cut])) == .needMore, "prefix of \(cut) bytes is not needMore")
    }
    for endpoint in [header.source, header.destination].compactMap({ $0 }) {
        fuzzCheck(endpoint.address.count == 4 || endpoint.address.count == 16, "address of odd length")
        fuzzCheck(ProxyEndpoint(text: endpoint.addressText, port: endpoint.port) == endpoint, "address text")
    }
    roundTrip(header)
}

/// Encoding what was parsed, as v1 and as v2, gives headers that parse to the same facts.
private func roundTrip(_ header: ProxyHeader) {
    let parser = ProxyHeaderParser(maxV2Length: 16 + 0xFFFF)
    let addressing = normalised(header.addressing)
    let v1 = ProxyHeaderEncoder.v1(header.addressing)
    guard case .header(let fromV1, let v1Consumed) = parser.parse(v1) else {
        fuzzCheck(false, "the v1 encoding of a parsed header does not parse")
        return
    }
    fuzzCheck(v1Consumed == v1.count, "v1 encoding: consumed \(v1Consumed) of \(v1.count)")
    fuzzCheck(normalised(fromV1.addressing) == v1Expected(addressing), "v1 round trip changed the addresses")

    let uniqueID = header.uniqueID.flatMap { String(validating: $0, as: UTF8.self) }
    let v2: [UInt8]
    do {
        v2 = try ProxyHeaderEncoder.v2(
            header.addressing, tls: header.tls, authority: header.authority, uniqueID: uniqueID)
    } catch {
        // Only a unique id the encoder cannot write may be refused; everything the parser reads back is valid.
        fuzzCheck(uniqueID != nil, "v2 encoder refused a parsed header: \(error)")
        return
    }
    guard case .header(let fromV2, let v2Consumed) = parser.parse(v2) else {
        fuzzCheck(false, "the v2 encoding of a parsed header does not parse")
        return
    }
    fuzzCheck(v2Consumed == v2.count, "v2 encoding: consumed \(v2Consumed) of \(v2.count)")
    fuzzCheck(normalised(fromV2.addressing) == addressing, "v2 round trip changed the addresses")
    guard header.addressing != .local else { return }
    fuzzCheck(fromV2.authority == header.authority, "v2 round trip changed the authority")
    fuzzCheck(fromV2.tls.map(tlsFacts) == header.tls.map(tlsFacts), "v2 round trip changed the TLS facts")
    if let uniqueID { fuzzCheck(fromV2.uniqueID == Array(uniqueID.utf8), "v2 round trip changed the unique id") }
}

/// v1 has no LOCAL: it is written as UNKNOWN.
private func v1Expected(_ addressing: ProxyHeader.Addressing) -> ProxyHeader.Addressing {
    addressing == .local ? .unknown : addressing
}

/// Addresses as the encoder writes them: both IPv4 when both are (or map to) IPv4, else both IPv6.
private func normalised(_ addressing: ProxyHeader.Addressing) -> ProxyHeader.Addressing {
    guard case .tcp(let source, let destination) = addressing else { return addressing }
    func unmapped(_ endpoint: ProxyEndpoint) -> ProxyEndpoint? {
        if endpoint.isIPv4 { return endpoint }
        let bytes = endpoint.address
        guard bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF else { return nil }
        return ProxyEndpoint(address: bytes[12...], port: endpoint.port)
    }
    func mapped(_ endpoint: ProxyEndpoint) -> ProxyEndpoint {
        guard endpoint.isIPv4 else { return endpoint }
        return ProxyEndpoint(
            address: [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF] + endpoint.address,
            port: endpoint.port) ?? endpoint
    }
    if let source4 = unmapped(source), let destination4 = unmapped(destination) {
        return .tcp(source: source4, destination: destination4)
    }
    return .tcp(source: mapped(source), destination: mapped(destination))
}

private struct TLSFacts: Equatable {
    var client: UInt8
    var verify: UInt32
    var version: String?
    var cipher: String?
}

private func tlsFacts(_ info: ProxyTLSInfo) -> TLSFacts {
    TLSFacts(client: info.client.rawValue, verify: info.verify, version: info.version, cipher: info.cipher)
}

@_cdecl("FuzzProxyHeader_main")
public func fuzzProxyHeaderMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzProxyHeader)
}
