import PosternMap
import XCTest

/// `BackendAddress.parse`: the server forms a map line may use.
final class BackendAddressTests: XCTestCase {
    func testHostWithoutPort() {
        XCTAssertEqual(BackendAddress.parse("imap1.example.org"), BackendAddress(host: "imap1.example.org"))
        XCTAssertEqual(BackendAddress.parse("localhost"), BackendAddress(host: "localhost", port: nil))
        XCTAssertEqual(BackendAddress.parse("127.0.0.2"), BackendAddress(host: "127.0.0.2"))
        XCTAssertEqual(BackendAddress.parse("mail_backend-2"), BackendAddress(host: "mail_backend-2"))
        XCTAssertEqual(BackendAddress.parse("mail.example.org."), BackendAddress(host: "mail.example.org."))
    }

    func testHostAndPort() {
        XCTAssertEqual(
            BackendAddress.parse("imap1.example.org:1143"), BackendAddress(host: "imap1.example.org", port: 1143))
        XCTAssertEqual(BackendAddress.parse("127.0.0.1:143"), BackendAddress(host: "127.0.0.1", port: 143))
        XCTAssertEqual(BackendAddress.parse("h:1")?.port, 1)
        XCTAssertEqual(BackendAddress.parse("h:65535")?.port, 65535)
    }

    func testBracketedIPv6() {
        XCTAssertEqual(BackendAddress.parse("[::1]:1143"), BackendAddress(host: "::1", port: 1143))
        XCTAssertEqual(BackendAddress.parse("[2001:db8::25]"), BackendAddress(host: "2001:db8::25"))
        XCTAssertEqual(BackendAddress.parse("[fe80::1%eth0]:993"), BackendAddress(host: "fe80::1%eth0", port: 993))
        XCTAssertEqual(
            BackendAddress.parse("[::ffff:192.0.2.1]:143"), BackendAddress(host: "::ffff:192.0.2.1", port: 143))
    }

    func testBareIPv6() {
        XCTAssertEqual(BackendAddress.parse("::1"), BackendAddress(host: "::1"))
        XCTAssertEqual(BackendAddress.parse("2001:db8::1"), BackendAddress(host: "2001:db8::1"))
        XCTAssertEqual(
            BackendAddress.parse("2001:db8:0:0:0:0:0:143"), BackendAddress(host: "2001:db8:0:0:0:0:0:143"),
            "a bare address keeps its last group; it is not read as a port")
    }

    func testBadPorts() {
        for text in [
            "host:", "host:0", "host:65536", "host:99999", "host:-1", "host:+143", "host:abc", "host:14 3",
            "host:0x8f", "host:000143", "[::1]:", "[::1]:0", "[::1]:70000", "[::1]:x", "[::1]143",
        ] {
            XCTAssertNil(BackendAddress.parse(text), text)
        }
    }

    func testMalformedHosts() {
        for text in [
            "", ":143", "[]", "[]:143", "[::1", "::1]", "[localhost]:143", "[127.0.0.1]:143", "[zz::1]:143",
            "[fe80::1%]:143", "host:25:26", "imap1:143:", "a:b:c", "bad host", "user@host", "a..b", ".host", "-host",
            "höst.example", "host/143",
        ] {
            XCTAssertNil(BackendAddress.parse(text), "'\(text)' must be refused")
        }
    }

    func testSubstringInput() {
        let line = "alice imap1:1143"
        let field = line.split(separator: " ")[1]
        XCTAssertEqual(BackendAddress.parse(field), BackendAddress(host: "imap1", port: 1143))
    }

    func testDescriptionRoundTrips() {
        let cases: [(BackendAddress, String)] = [
            (BackendAddress(host: "imap1"), "imap1"),
            (BackendAddress(host: "imap1", port: 143), "imap1:143"),
            (BackendAddress(host: "::1"), "[::1]"),
            (BackendAddress(host: "::1", port: 1143), "[::1]:1143"),
        ]
        for (address, text) in cases {
            XCTAssertEqual(address.description, text)
            XCTAssertEqual(BackendAddress.parse(text), address)
        }
    }
}
