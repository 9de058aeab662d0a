import PosternProtocol
import XCTest

/// The PROXY protocol parser: the specification's example headers, byte-at-a-time input, and every
/// way a header can be truncated, oversized or garbage.
final class ProxyHeaderParserTests: XCTestCase {
    private let parser = ProxyHeaderParser()

    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    private func endpoint(_ text: String, _ port: UInt16) -> ProxyEndpoint { ProxyEndpoint(text: text, port: port)! }

    func testTheSpecificationsV1ExampleBeforeAnHTTPRequest() {
        let input = bytes("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET / HTTP/1.1\r\n")
        guard case .header(let header, let consumed) = parser.parse(input) else {
            return XCTFail("\(parser.parse(input))")
        }
        XCTAssertEqual(consumed, 47)
        XCTAssertEqual(header.version, .v1)
        XCTAssertEqual(header.source, endpoint("192.168.0.1", 56324))
        XCTAssertEqual(header.destination, endpoint("192.168.0.11", 443))
        XCTAssertEqual(Array(input[consumed...]), bytes("GET / HTTP/1.1\r\n"))
    }

    func testTheLongestV1LinesAreAccepted() {
        let v4 = bytes("PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n")
        let six = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
        let v6 = bytes("PROXY TCP6 \(six) \(six) 65535 65535\r\n")
        let unknown = bytes("PROXY UNKNOWN \(six) \(six) 65535 65535\r\n")
        XCTAssertEqual([v4.count, v6.count, unknown.count], [56, 104, 107])
        guard case .header(let header4, 56) = parser.parse(v4), case .header(let header6, 104) = parser.parse(v6)
        else { return XCTFail("longest TCP4/TCP6 lines refused") }
        XCTAssertEqual(header4.source, endpoint("255.255.255.255", 65535))
        XCTAssertEqual(header6.destination?.addressText, six)
        XCTAssertEqual(parser.parse(unknown), .header(ProxyHeader(version: .v1, addressing: .unknown), consumed: 107))
        XCTAssertEqual(
            parser.parse(bytes("PROXY UNKNOWN\r\n")),
            .header(ProxyHeader(version: .v1, addressing: .unknown), consumed: 15))
    }

    func testAHeaderArrivingOneByteAtATimeNeedsMoreUntilItIsComplete() throws {
        let line = bytes("PROXY TCP6 2001:db8::1 2001:db8::2 4000 143\r\n")
        let binary = try ProxyHeaderEncoder.v2(
            .tcp(source: endpoint("192.0.2.1", 5000), destination: endpoint("192.0.2.2", 143)),
            authority: "imap.example.org")
        for header in [line, binary] {
            for count in 0..<header.count {
                XCTAssertEqual(parser.parse(Array(header[..<count])), .needMore, "after \(count) bytes")
            }
            guard case .header(_, let consumed) = parser.parse(header + bytes("a1 LOGIN")) else {
                return XCTFail("complete header refused")
            }
            XCTAssertEqual(consumed, header.count)
        }
    }

    func testGarbageIsRefusedAtOnce() {
        XCTAssertEqual(parser.parse(bytes("a1 LOGIN alice secret\r\n")), .invalid(.notAProxyHeader))
        XCTAssertEqual(parser.parse(bytes("G")), .invalid(.notAProxyHeader))
        XCTAssertEqual(parser.parse(bytes("PROXZ")), .invalid(.notAProxyHeader))
        XCTAssertEqual(parser.parse([0x0D, 0x0A, 0x0D, 0x0A, 0x01]), .invalid(.notAProxyHeader))
        XCTAssertEqual(parser.parse(bytes("proxy TCP4 1.2.3.4 1.2.3.5 1 2\r\n")), .invalid(.notAProxyHeader))
    }

    func testV1LinesThatDoNotExactlyMatchAreRefused() {
        let cases: [(String, ProxyHeaderError)] = [
            ("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\n", .badLineEnding),
            ("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\rx", .badLineEnding),
            ("PROXY TCP4 192.168.0.1 192.168.0.11 56324\r\n", .badProtocol),
            ("PROXY TCP4  192.168.0.1 192.168.0.11 56324 443\r\n", .badProtocol),
            ("PROXY UDP4 192.168.0.1 192.168.0.11 56324 443\r\n", .badProtocol),
            ("PROXY TCP4 192.168.0.01 192.168.0.11 56324 443\r\n", .badAddress),
            ("PROXY TCP4 192.168.0.256 192.168.0.11 56324 443\r\n", .badAddress),
            ("PROXY TCP4 ::1 ::1 56324 443\r\n", .badAddress),
            ("PROXY TCP6 192.168.0.1 ::1 56324 443\r\n", .badAddress),
            ("PROXY TCP6 fe80::1%eth0 ::1 56324 443\r\n", .badAddress),
            ("PROXY TCP4 192.168.0.1 192.168.0.11 056324 443\r\n", .badPort),
            ("PROXY TCP4 192.168.0.1 192.168.0.11 65536 443\r\n", .badPort),
            ("PROXY TCP4 192.168.0.1 192.168.0.11 -1 443\r\n", .badPort),
            ("PROXY TCP4 192.168.0.1\u{0} 192.168.0.11 1 443\r\n", .badCharacter),
        ]
        for (line, error) in cases {
            XCTAssertEqual(parser.parse(bytes(line)), .invalid(error), line.debugDescription)
        }
    }

    func testAV1LineWithoutCRLFInTheFirst107BytesIsRefused() {
        let long = bytes("PROXY UNKNOWN " + String(repeating: "x", count: 200))
        XCTAssertEqual(parser.parse(Array(long[..<106])), .needMore)
        XCTAssertEqual(parser.parse(Array(long[..<107])), .invalid(.lineTooLong))
        XCTAssertEqual(parser.parse(long), .invalid(.lineTooLong))
        // CRLF ending at byte 108 is one too many.
        let overByOne = bytes("PROXY UNKNOWN " + String(repeating: "x", count: 92) + "\r\n")
        XCTAssertEqual(overByOne.count, 108)
        XCTAssertEqual(parser.parse(overByOne), .invalid(.lineTooLong))
    }

    /// HAProxy's `send-proxy-v2` for a TCP/IPv4 client: signature, 0x21, 0x11, length 12, addresses, ports.
    func testAHandWrittenV2IPv4Header() {
        let header: [UInt8] =
            ProxyHeaderParser.v2Signature + [0x21, 0x11, 0x00, 0x0C] + [10, 0, 0, 1] + [10, 0, 0, 2] + [0xC3, 0x50]
            + [0x00, 0x8F]
        let expected = ProxyHeader(
            version: .v2, addressing: .tcp(source: endpoint("10.0.0.1", 50000), destination: endpoint("10.0.0.2", 143)))
        XCTAssertEqual(parser.parse(header + [0x41]), .header(expected, consumed: 28))
    }

    func testV2LocalIgnoresItsAddressBlock() {
        let local: [UInt8] =
            ProxyHeaderParser.v2Signature + [0x20, 0x11, 0x00, 0x0C] + [UInt8](repeating: 9, count: 12)
        XCTAssertEqual(parser.parse(local), .header(ProxyHeader(version: .v2, addressing: .local), consumed: 28))
        let bare: [UInt8] = ProxyHeaderParser.v2Signature + [0x20, 0x00, 0x00, 0x00]
        XCTAssertEqual(parser.parse(bare), .header(ProxyHeader(version: .v2, addressing: .local), consumed: 16))
    }

    func testV2UnspecifiedUnixAndDatagramFamiliesAreUnknown() {
        let unspec: [UInt8] = ProxyHeaderParser.v2Signature + [0x21, 0x00, 0x00, 0x00]
        XCTAssertEqual(parser.parse(unspec), .header(ProxyHeader(version: .v2, addressing: .unknown), consumed: 16))
        let unix: [UInt8] =
            ProxyHeaderParser.v2Signature + [0x21, 0x31, 0x00, 0xD8] + [UInt8](repeating: 0, count: 216)
        XCTAssertEqual(parser.parse(unix), .header(ProxyHeader(version: .v2, addressing: .unknown), consumed: 232))
        let udp: [UInt8] = ProxyHeaderParser.v2Signature + [0x21, 0x12, 0x00, 0x0C] + [UInt8](repeating: 1, count: 12)
        XCTAssertEqual(parser.parse(udp), .header(ProxyHeader(version: .v2, addressing: .unknown), consumed: 28))
    }

    func testBadV2HeadersAreRefused() {
        let signature = ProxyHeaderParser.v2Signature
        XCTAssertEqual(parser.parse(signature + [0x11]), .invalid(.unsupportedVersion(1)))
        XCTAssertEqual(parser.parse(signature + [0x22]), .invalid(.badCommand(2)))
        XCTAssertEqual(parser.parse(signature + [0x21, 0x41]), .invalid(.badFamily(0x41)))
        XCTAssertEqual(parser.parse(signature + [0x21, 0x13]), .invalid(.badFamily(0x13)))
        XCTAssertEqual(
            parser.parse(signature + [0x21, 0x11, 0x00, 0x04, 1, 2, 3, 4]), .invalid(.addressBlockTooShort))
        let overrun: [UInt8] =
            signature + [0x21, 0x11, 0x00, 0x0F] + [UInt8](repeating: 1, count: 12) + [0x02, 0x00, 0x05]
        XCTAssertEqual(parser.parse(overrun), .invalid(.badTLV))
        let badSSL: [UInt8] =
            signature + [0x21, 0x11, 0x00, 0x10] + [UInt8](repeating: 1, count: 12) + [0x20, 0x00, 0x01, 0x01]
        XCTAssertEqual(parser.parse(badSSL), .invalid(.badTLV))
    }

    func testAnOversizedV2HeaderIsRefusedBeforeItsBodyArrives() {
        let parser = ProxyHeaderParser(maxV2Length: 2048)
        let announced: [UInt8] = ProxyHeaderParser.v2Signature + [0x21, 0x11, 0x08, 0x00]
        XCTAssertEqual(parser.parse(announced), .invalid(.headerTooLong(16 + 2048)))
        let fits: [UInt8] = ProxyHeaderParser.v2Signature + [0x21, 0x11, 0x07, 0xF0]
        XCTAssertEqual(parser.parse(fits), .needMore)
    }

    func testReceivedTLVsAreDecoded() {
        var body: [UInt8] = [192, 0, 2, 1, 192, 0, 2, 2, 0x13, 0x88, 0x00, 0x8F]
        body += [0x02, 0x00, 0x04] + Array("mx.1".utf8)
        body += [0x05, 0x00, 0x02, 0xAB, 0xCD]
        let ssl: [UInt8] = [0x07, 0, 0, 0, 0] + [0x21, 0x00, 0x07] + Array("TLSv1.3".utf8)
        body += [0x20, 0x00, UInt8(ssl.count)] + ssl
        let header = ProxyHeaderParser.v2Signature + [0x21, 0x11, 0x00, UInt8(body.count)] + body
        guard case .header(let parsed, _) = parser.parse(header) else { return XCTFail("refused") }
        XCTAssertEqual(parsed.authority, "mx.1")
        XCTAssertEqual(parsed.uniqueID, [0xAB, 0xCD])
        XCTAssertEqual(
            parsed.tls,
            ProxyTLSInfo(
                client: [.ssl, .certificateOnConnection, .certificateInSession], verify: 0, version: "TLSv1.3"))
    }

    func testAReceivedAuthorityWithAControlCharacterIsNotTakenAsText() {
        var body: [UInt8] = [UInt8](repeating: 1, count: 12)
        body += [0x02, 0x00, 0x03, 0x61, 0x0D, 0x0A]
        let header = ProxyHeaderParser.v2Signature + [0x21, 0x11, 0x00, UInt8(body.count)] + body
        guard case .header(let parsed, _) = parser.parse(header) else { return XCTFail("refused") }
        XCTAssertNil(parsed.authority)
        XCTAssertEqual(parsed.tlvs.first?.value, [0x61, 0x0D, 0x0A])
    }

    func testAnEndpointAddressIsCheckedToItsLastByte() {
        // inet_pton sees a C string: a NUL must not hide what follows it.
        XCTAssertNil(ProxyEndpoint(text: "10.0.0.1\0evil", port: 143))
        XCTAssertNil(ProxyEndpoint(text: "::1\0evil", port: 143))
        XCTAssertEqual(ProxyEndpoint(text: "::FFFF:10.0.0.1", port: 143)?.addressText, "::ffff:10.0.0.1")
    }
}
