import PosternProtocol
import XCTest

/// The PROXY header Postern sends to backends: v1 lines, v2 blocks with their TLVs, round trips
/// through the parser, and values refused for control characters.
final class ProxyHeaderEncoderTests: XCTestCase {
    private let parser = ProxyHeaderParser()

    private func endpoint(_ text: String, _ port: UInt16) -> ProxyEndpoint { ProxyEndpoint(text: text, port: port)! }

    func testV1Lines() {
        let v4 = ProxyHeader.Addressing.tcp(
            source: endpoint("192.168.0.1", 56324), destination: endpoint("192.168.0.11", 443))
        XCTAssertEqual(
            String(decoding: ProxyHeaderEncoder.v1(v4), as: UTF8.self),
            "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n")
        let v6 = ProxyHeader.Addressing.tcp(source: endpoint("2001:DB8:0:0::1", 1), destination: endpoint("::1", 143))
        XCTAssertEqual(
            String(decoding: ProxyHeaderEncoder.v1(v6), as: UTF8.self), "PROXY TCP6 2001:db8::1 ::1 1 143\r\n")
        XCTAssertEqual(String(decoding: ProxyHeaderEncoder.v1(.local), as: UTF8.self), "PROXY UNKNOWN\r\n")
    }

    func testMixedFamiliesAreWrittenInOne() {
        let mapped = ProxyHeader.Addressing.tcp(
            source: endpoint("::ffff:192.0.2.1", 4000), destination: endpoint("192.0.2.2", 143))
        XCTAssertEqual(
            String(decoding: ProxyHeaderEncoder.v1(mapped), as: UTF8.self),
            "PROXY TCP4 192.0.2.1 192.0.2.2 4000 143\r\n")
        let mixed = ProxyHeader.Addressing.tcp(
            source: endpoint("2001:db8::7", 4000), destination: endpoint("192.0.2.2", 143))
        XCTAssertEqual(
            String(decoding: ProxyHeaderEncoder.v1(mixed), as: UTF8.self),
            "PROXY TCP6 2001:db8::7 ::ffff:192.0.2.2 4000 143\r\n")
    }

    func testV1RoundTrips() {
        for addressing: ProxyHeader.Addressing in [
            .tcp(source: endpoint("10.1.2.3", 0), destination: endpoint("10.0.0.1", 65535)),
            .tcp(source: endpoint("fe80::1:2", 12345), destination: endpoint("2001:db8::", 993)),
            .unknown,
        ] {
            let bytes = ProxyHeaderEncoder.v1(addressing)
            XCTAssertEqual(
                parser.parse(bytes), .header(ProxyHeader(version: .v1, addressing: addressing), consumed: bytes.count))
        }
    }

    func testV2LocalIsTheBareSixteenBytes() throws {
        let bytes = try ProxyHeaderEncoder.v2(.local, authority: "ignored")
        XCTAssertEqual(bytes, ProxyHeaderParser.v2Signature + [0x20, 0x00, 0x00, 0x00])
        XCTAssertEqual(parser.parse(bytes), .header(ProxyHeader(version: .v2, addressing: .local), consumed: 16))
    }

    func testV2IPv4MatchesTheLayoutOfTheSpecification() throws {
        let bytes = try ProxyHeaderEncoder.v2(
            .tcp(source: endpoint("10.0.0.1", 50000), destination: endpoint("10.0.0.2", 143)))
        XCTAssertEqual(
            bytes,
            ProxyHeaderParser.v2Signature + [0x21, 0x11, 0x00, 0x0C, 10, 0, 0, 1, 10, 0, 0, 2, 0xC3, 0x50, 0x00, 0x8F])
    }

    func testV2RoundTripsWithEveryTLV() throws {
        let tls = ProxyTLSInfo(client: [.ssl], verify: 1, version: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384")
        for addressing: ProxyHeader.Addressing in [
            .tcp(source: endpoint("192.0.2.10", 40000), destination: endpoint("192.0.2.1", 143)),
            .tcp(source: endpoint("2001:db8::10", 40000), destination: endpoint("2001:db8::1", 993)),
            .unknown,
        ] {
            let bytes = try ProxyHeaderEncoder.v2(
                addressing, tls: tls, authority: "imap.example.org", uniqueID: "s-0000002a")
            guard case .header(let header, let consumed) = parser.parse(bytes + [0x2A]) else {
                return XCTFail("own header refused")
            }
            XCTAssertEqual(consumed, bytes.count)
            XCTAssertEqual(header.addressing, addressing)
            XCTAssertEqual(header.tls, tls)
            XCTAssertEqual(header.authority, "imap.example.org")
            XCTAssertEqual(header.uniqueID, Array("s-0000002a".utf8))
            XCTAssertEqual(header.tlvs.map(\.type), [ProxyTLV.authority, ProxyTLV.uniqueID, ProxyTLV.ssl])
        }
    }

    func testWithoutTLSThereIsNoSSLTLV() throws {
        let bytes = try ProxyHeaderEncoder.v2(
            .tcp(source: endpoint("192.0.2.10", 1), destination: endpoint("192.0.2.1", 2)))
        guard case .header(let header, _) = parser.parse(bytes) else { return XCTFail("refused") }
        XCTAssertNil(header.tls)
        XCTAssertEqual(header.tlvs, [])
    }

    func testValuesWithControlCharactersAreRefused() {
        let addressing = ProxyHeader.Addressing.tcp(
            source: endpoint("192.0.2.10", 1), destination: endpoint("192.0.2.1", 2))
        for bad in ["a\r\nb", "a\nb", "a\u{0}b", "a\tb"] {
            XCTAssertThrowsError(try ProxyHeaderEncoder.v2(addressing, authority: bad)) {
                XCTAssertEqual($0 as? ProxyEncodeError, .controlCharacter(.authority))
            }
            XCTAssertThrowsError(try ProxyHeaderEncoder.v2(addressing, uniqueID: bad)) {
                XCTAssertEqual($0 as? ProxyEncodeError, .controlCharacter(.uniqueID))
            }
            XCTAssertThrowsError(try ProxyHeaderEncoder.v2(addressing, tls: ProxyTLSInfo(version: bad))) {
                XCTAssertEqual($0 as? ProxyEncodeError, .controlCharacter(.tlsVersion))
            }
            XCTAssertThrowsError(try ProxyHeaderEncoder.v2(addressing, tls: ProxyTLSInfo(cipher: bad))) {
                XCTAssertEqual($0 as? ProxyEncodeError, .controlCharacter(.tlsCipher))
            }
        }
    }

    func testAUniqueIDOver128BytesIsRefused() throws {
        let addressing = ProxyHeader.Addressing.unknown
        XCTAssertNoThrow(try ProxyHeaderEncoder.v2(addressing, uniqueID: String(repeating: "u", count: 128)))
        XCTAssertThrowsError(try ProxyHeaderEncoder.v2(addressing, uniqueID: String(repeating: "u", count: 129))) {
            XCTAssertEqual($0 as? ProxyEncodeError, .tooLong(.uniqueID, bytes: 129))
        }
    }
}
