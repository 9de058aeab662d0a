import XCTest

@testable import PosternProtocol

/// Base64 (RFC 4648) and the PLAIN message (RFC 4616).
final class SASLTests: XCTestCase {
    // MARK: Base64

    func testBase64RFC4648Vectors() {
        let vectors: [(String, String)] = [
            ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ]
        for (plain, encoded) in vectors {
            XCTAssertEqual(SASL.base64Encode(bytes(plain)), encoded, "encode \(plain)")
            XCTAssertEqual(SASL.base64Decode(bytes(encoded)), bytes(plain), "decode \(encoded)")
        }
    }

    func testBase64UsesPlusAndSlashForTheLastTwoDigits() {
        XCTAssertEqual(SASL.base64Encode([0xFB, 0xFF, 0xBF]), "+/+/")
        XCTAssertEqual(SASL.base64Decode(bytes("+/+/")), [0xFB, 0xFF, 0xBF])
        XCTAssertEqual(SASL.base64Encode([0xFF]), "/w==")
        XCTAssertEqual(SASL.base64Encode([0xFF, 0xFF]), "//8=")
        XCTAssertEqual(SASL.base64Encode([0, 0, 0]), "AAAA")
    }

    func testBase64RoundTripsEveryPaddingCase() {
        var generator = SplitMix64(seed: 4648)
        for length in 0..<64 {
            let data = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let encoded = SASL.base64Encode(data)
            XCTAssertEqual(encoded.utf8.count, (length + 2) / 3 * 4, "length \(length)")
            let padding = encoded.utf8.reversed().prefix { $0 == UInt8(ascii: "=") }.count
            XCTAssertEqual(padding, [0, 2, 1][length % 3], "padding for length \(length)")
            XCTAssertEqual(SASL.base64Decode(bytes(encoded)), data, "round trip of length \(length)")
        }
    }

    func testBase64RoundTripsAllByteValues() {
        let all = (0...255).map { UInt8($0) }
        XCTAssertEqual(SASL.base64Decode(bytes(SASL.base64Encode(all))), all)
        XCTAssertEqual(SASL.base64Decode(bytes(SASL.base64Encode(all.reversed()))), Array(all.reversed()))
    }

    func testBase64RejectsCharactersOutsideTheAlphabet() {
        for bad in ["Zm9-", "Zm9_", "Zm 9", "Zm9v\r\n", "Zm9v\n", " Zm9v", "Zm.v", "Zm9\u{0}", "Zmé"] {
            XCTAssertNil(SASL.base64Decode(bytes(bad)), "should reject \(bad.debugDescription)")
        }
        XCTAssertNil(SASL.base64Decode([0x5A, 0x6D, 0x39, 0xFF]), "high byte")
    }

    func testBase64RejectsLengthsThatAreNotAMultipleOfFour() {
        for bad in ["Z", "Zg", "Zg=", "Zm9vY", "Zm9vYg", "Zm9vYg=", "Zm9vYmFy="] {
            XCTAssertNil(SASL.base64Decode(bytes(bad)), "should reject \(bad)")
        }
    }

    func testBase64RejectsMisplacedPadding() {
        for bad in ["=", "====", "Z===", "=Zg=", "Zg=a", "Z=g=", "Zg==Zg==", "Zm8=Zm9v", "Zg==AAAA", "AA=A"] {
            XCTAssertNil(SASL.base64Decode(bytes(bad)), "should reject \(bad)")
        }
    }

    // MARK: PLAIN

    func testDecodePlainWithoutAuthzid() {
        // RFC 4616 section 4 example.
        XCTAssertEqual(
            SASL.decodePlain(bytes("\u{0}tim\u{0}tanstaaftanstaaf")),
            Credentials(user: "tim", password: "tanstaaftanstaaf", authzid: nil))
    }

    func testDecodePlainWithAuthzid() {
        XCTAssertEqual(
            SASL.decodePlain(bytes("Ursel\u{0}Kurt\u{0}xipj3plmq")),
            Credentials(user: "Kurt", password: "xipj3plmq", authzid: "Ursel"))
    }

    func testDecodePlainAcceptsUTF8() {
        XCTAssertEqual(
            SASL.decodePlain(bytes("\u{0}jürgen@exämple.org\u{0}pässwörd ✓")),
            Credentials(user: "jürgen@exämple.org", password: "pässwörd ✓"))
    }

    func testDecodePlainDecodesTheBase64OfTheRFCExample() {
        let message = SASL.base64Decode(bytes("AHRpbQB0YW5zdGFhZnRhbnN0YWFm"))
        XCTAssertEqual(message, bytes("\u{0}tim\u{0}tanstaaftanstaaf"))
        XCTAssertEqual(message.flatMap(SASL.decodePlain), Credentials(user: "tim", password: "tanstaaftanstaaf"))
    }

    func testDecodePlainRejectsMissingSeparators() {
        XCTAssertNil(SASL.decodePlain([]))
        XCTAssertNil(SASL.decodePlain(bytes("tim")))
        XCTAssertNil(SASL.decodePlain(bytes("\u{0}tim")))
        XCTAssertNil(SASL.decodePlain(bytes("tim\u{0}secret")))
    }

    func testDecodePlainRejectsEmptyAuthcid() {
        XCTAssertNil(SASL.decodePlain(bytes("\u{0}\u{0}secret")))
        XCTAssertNil(SASL.decodePlain(bytes("admin\u{0}\u{0}secret")))
    }

    func testDecodePlainRejectsANulInThePassword() {
        // RFC 4616: passwd = 1*SAFE, and SAFE excludes NUL.
        XCTAssertNil(SASL.decodePlain(bytes("\u{0}tim\u{0}sec\u{0}ret")))
        XCTAssertNil(SASL.decodePlain(bytes("\u{0}tim\u{0}secret\u{0}")))
    }

    func testDecodePlainRejectsInvalidUTF8() {
        XCTAssertNil(SASL.decodePlain([0xFF] + bytes("\u{0}tim\u{0}secret")), "authzid")
        XCTAssertNil(SASL.decodePlain(bytes("\u{0}ti") + [0xC3] + bytes("\u{0}secret")), "authcid")
        XCTAssertNil(SASL.decodePlain(bytes("\u{0}tim\u{0}sec") + [0xED, 0xA0, 0x80]), "password (surrogate)")
    }

    func testEncodePlainProducesTheRFCLayout() {
        XCTAssertEqual(
            SASL.encodePlain(Credentials(user: "tim", password: "tanstaaftanstaaf")),
            bytes("\u{0}tim\u{0}tanstaaftanstaaf"))
        XCTAssertEqual(
            SASL.encodePlain(Credentials(user: "Kurt", password: "xipj3plmq", authzid: "Ursel")),
            bytes("Ursel\u{0}Kurt\u{0}xipj3plmq"))
        XCTAssertEqual(
            SASL.base64Encode(SASL.encodePlain(Credentials(user: "tim", password: "tanstaaftanstaaf"))),
            "AHRpbQB0YW5zdGFhZnRhbnN0YWFm")
    }

    func testEncodeDecodePlainRoundTrip() {
        let cases = [
            Credentials(user: "alice", password: "s3cr3t"),
            Credentials(user: "bob@example.org", password: "p a s s", authzid: "shared@example.org"),
            Credentials(user: "jürgen", password: "ünïcødé ✓", authzid: "ädmin"),
            Credentials(user: "u", password: "\"quoted\" {5} \\ (list)"),
        ]
        for credentials in cases {
            let wire = SASL.base64Encode(SASL.encodePlain(credentials))
            XCTAssertEqual(SASL.base64Decode(bytes(wire)).flatMap(SASL.decodePlain), credentials)
        }
    }

    // MARK: Credentials

    func testRoutingKeyPrefersANonEmptyAuthzid() {
        XCTAssertEqual(Credentials(user: "alice", password: "x").routingKey, "alice")
        XCTAssertEqual(Credentials(user: "alice", password: "x", authzid: "").routingKey, "alice")
        XCTAssertEqual(Credentials(user: "alice", password: "x", authzid: "shared").routingKey, "shared")
    }
}
