import PosternConfig
import XCTest

/// Regression tests for inputs the fuzzers found (Fuzz/, docs/hardening.md).
final class AddressSyntaxTests: XCTestCase {
    func testHostNamesAreBoundedAsDNSNames() {
        // test_faults.py: a 300 KB mailHost from the directory became a backend host (and a log field).
        let label63 = String(repeating: "a", count: 63)
        let longest = [label63, label63, label63, String(repeating: "b", count: 61)].joined(separator: ".")
        XCTAssertEqual(longest.utf8.count, 253)
        for good in [longest, longest + ".", "\(label63).example.org"] {
            XCTAssertNoThrow(try AddressSyntax.parse(good, portRequired: false).get(), good)
        }
        for bad in [
            longest + "c", String(repeating: "h", count: 300_000), label63 + "a.example.org", longest + "..",
        ] {
            XCTAssertThrowsError(try AddressSyntax.parse(bad, portRequired: false).get(), String(bad.prefix(80)))
        }
        XCTAssertThrowsError(try AddressSyntax.parse(String(repeating: "h", count: 300_000), portRequired: false).get())
        {
            XCTAssertLessThan(String(describing: $0).utf8.count, 400, "the message does not repeat the whole value")
        }
    }

    func testAnIPv6ZoneIsAnInterfaceNameOrIndex() {
        for good in ["fe80::1%eth0", "fe80::1%2", "fe80::1%br-lan.10", "fe80::1%enp0s31f6_x"] {
            XCTAssertTrue(AddressSyntax.isIPv6(good), good)
        }
        let parsed = try? AddressSyntax.parse("[fe80::1%eth0]:993", portRequired: true).get()
        XCTAssertEqual(parsed?.host, "fe80::1%eth0")
        XCTAssertEqual(parsed?.port, 993)
    }

    func testAZoneCannotCarryControlCharactersOrSeparators() {
        // FuzzMapValue: "[fe80::1%eth0" + six 0xFF bytes + "]" gave a backend host with U+FFFD in its zone.
        let found = String(
            decoding: Array("[fe80::1%eth0".utf8) + [UInt8](repeating: 0xFF, count: 6) + [0x5D], as: UTF8.self)
        for bad in [
            found, "fe80::1%eth0\u{FFFD}", "fe80::1%eth\r\n0", "fe80::1%a\u{0}", "fe80::1%a[b", "fe80::1%a@b",
            "fe80::1%",
            "fe80::1%a,b", "fe80::1%a b", "fe80::1%eth0%eth1", "fe80::1%\u{7F}", "fe80::1%abcdefghijklmnop",
        ] {
            XCTAssertFalse(AddressSyntax.isIPv6(bad), bad.debugDescription)
            XCTAssertThrowsError(
                try AddressSyntax.parse(bad, portRequired: false, bareIPv6: true).get(), bad.debugDescription)
        }
    }

    func testANULCannotHideTheRestOfAnAddressFromInetPton() {
        // FuzzMapValue: "::f:10.0.0.0\0\u{10}..." was taken as IPv6 (inet_pton stopped at the NUL), so a map
        // value gave a backend host holding NUL and control characters.
        let found = String(
            decoding: [0x3A, 0x3A, 0x66, 0x3A, 0x31, 0x30, 0x2E, 0x30, 0x2E, 0x30, 0x2E, 0x30, 0x00, 0x10, 0xFD, 0xD4],
            as: UTF8.self)
        XCTAssertFalse(AddressSyntax.isIPv6(found))
        XCTAssertThrowsError(try AddressSyntax.parse(found, portRequired: false, bareIPv6: true).get())
        XCTAssertThrowsError(try AddressSyntax.parse("[::1\0evil]:143", portRequired: true).get())
        XCTAssertNil(IPAddress("10.0.0.1\0evil"))
        XCTAssertNil(IPAddress("::1\0evil"))
        XCTAssertThrowsError(try CIDR.parse("10.0.0.0\0x/8").get())
        XCTAssertEqual(IPAddress("::ffff:10.0.0.1")?.description, "10.0.0.1")
    }
}
