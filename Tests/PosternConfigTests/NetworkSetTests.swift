import PosternConfig
import XCTest

/// Addresses, CIDRs, network sets, the per-client address key and the backend allow-list.
final class NetworkSetTests: XCTestCase {
    func testAddressesParseInEveryLiteralForm() {
        XCTAssertEqual(IPAddress("192.0.2.1")?.bytes, [192, 0, 2, 1])
        XCTAssertEqual(IPAddress("::1")?.description, "::1")
        XCTAssertEqual(IPAddress("[2001:DB8::1]")?.description, "2001:db8::1")
        XCTAssertEqual(IPAddress("fe80::1%eth0")?.description, "fe80::1")
        XCTAssertEqual(IPAddress("::ffff:192.0.2.1"), IPAddress("192.0.2.1"), "IPv4-mapped is IPv4")
        for bad in ["", "mail.example.org", "1.2.3", "1.2.3.4.5", "256.1.1.1", "::g", "1.2.3.4/8", "fe80::1%"] {
            XCTAssertNil(IPAddress(bad), bad)
        }
        XCTAssertNil(IPAddress(bytes: [1, 2, 3]))
    }

    func testCIDRsParseAndMatch() throws {
        let ten = try CIDR.parse("10.0.0.0/8").get()
        XCTAssertTrue(ten.contains(IPAddress("10.255.1.2")!))
        XCTAssertFalse(ten.contains(IPAddress("11.0.0.1")!))
        XCTAssertTrue(ten.contains(IPAddress("::ffff:10.1.1.1")!), "mapped form of an IPv4 client")
        XCTAssertFalse(ten.contains(IPAddress("::1")!))
        let loopback6 = try CIDR.parse("::1/128").get()
        XCTAssertTrue(loopback6.contains(IPAddress("::1")!))
        XCTAssertFalse(loopback6.contains(IPAddress("::2")!))
        let host = try CIDR.parse("192.0.2.7").get()
        XCTAssertEqual(host.prefixLength, 32)
        XCTAssertEqual(try CIDR.parse("2001:db8::/32").get().description, "2001:db8::/32")
        XCTAssertTrue(try CIDR.parse("0.0.0.0/0").get().contains(IPAddress("203.0.113.9")!))
        XCTAssertTrue(try CIDR.parse("2001:db8:0:1::/64").get().contains(IPAddress("2001:db8:0:1:ffff::1")!))
        XCTAssertEqual(try CIDR.parse("::ffff:10.0.0.0/104").get(), ten)
    }

    func testBadCIDRsSayWhy() {
        let cases = [
            ("10.0.0.0/33", "bad prefix length"), ("10.0.0.0/", "bad prefix length"), ("::/129", "bad prefix length"),
            ("10.1.2.3/8", "bits set past the prefix"), ("mail/8", "not an IPv4 or IPv6 address"),
            ("[::1]/128", "not an IPv4 or IPv6 address"), ("10.0.0.0/+8", "bad prefix length"),
        ]
        for (text, fragment) in cases {
            guard case .failure(let problem) = CIDR.parse(text) else { return XCTFail("\(text) accepted") }
            XCTAssertTrue(problem.message.contains(fragment), "\(text): \(problem.message)")
        }
    }

    func testNetworkSetsMatchStringsAndBytes() {
        let set = NetworkSet(parsing: ["127.0.0.0/8", "2001:db8::/32"])!
        XCTAssertTrue(set.contains("127.0.0.3"))
        XCTAssertTrue(set.contains(bytes: [127, 1, 2, 3]))
        XCTAssertTrue(set.contains("2001:db8:ffff::1"))
        XCTAssertFalse(set.contains("192.0.2.1"))
        XCTAssertFalse(set.contains("localhost"))
        XCTAssertFalse(set.contains(bytes: [1, 2]))
        XCTAssertFalse(NetworkSet().contains("127.0.0.1"))
        XCTAssertNil(NetworkSet(parsing: ["127.0.0.0/8", "nope"]))
    }

    func testTheClientKeyCountsIPv6PerSlash64() {
        let one = ClientAddressKey("2001:db8:1:2::1")!
        XCTAssertEqual(one, ClientAddressKey("2001:db8:1:2:aaaa:bbbb:cccc:dddd"))
        XCTAssertNotEqual(one, ClientAddressKey("2001:db8:1:3::1"))
        XCTAssertEqual(one.description, "2001:db8:1:2::/64")
        XCTAssertNotEqual(ClientAddressKey("192.0.2.1"), ClientAddressKey("192.0.2.2"))
        XCTAssertEqual(ClientAddressKey("::ffff:192.0.2.1"), ClientAddressKey("192.0.2.1"))
        XCTAssertEqual(ClientAddressKey("192.0.2.1")?.description, "192.0.2.1")
        XCTAssertNil(ClientAddressKey("example.org"))
    }

    func testAllowedBackendsMatchHostsWildcardsAndNetworks() {
        let allowed = AllowedBackends(parsing: ["10.1.0.0/16", "*.mail.example.org", "imap.example.net", "::1"])!
        XCTAssertTrue(allowed.permits(host: "10.1.2.3"))
        XCTAssertFalse(allowed.permits(host: "10.2.0.1"))
        XCTAssertTrue(allowed.permits(host: "a.mail.example.org"))
        XCTAssertTrue(allowed.permits(host: "B.A.Mail.Example.Org."))
        XCTAssertFalse(allowed.permits(host: "mail.example.org"), "the wildcard needs a label in front")
        XCTAssertFalse(allowed.permits(host: "evilmail.example.org"))
        XCTAssertTrue(allowed.permits(host: "IMAP.example.net"))
        XCTAssertFalse(allowed.permits(host: "imap.example.net.evil"))
        XCTAssertTrue(allowed.permits(host: "::1"))
        XCTAssertFalse(allowed.permits(host: "127.0.0.1"))
        XCTAssertFalse(allowed.permits(host: ""))
    }

    func testBadAllowListEntriesAreRefused() {
        for bad in ["*.", "*", "a..b", "-x.org", "10.0.0.0/40", "*.a b", "a,b"] {
            guard case .failure = AllowedBackends.parsePattern(bad) else { return XCTFail("\(bad) accepted") }
        }
    }

    func testEveryAllowListEntryMatchesWhatItNames() throws {
        // FuzzMapValue: "0.2.." became the host pattern "0.2.", which no host can match once its one
        // trailing dot is dropped; "10.0.0.1." became a host pattern an address never matches.
        for bad in ["0.2..", "imap.example.org..", "*.example.org.."] {
            guard case .failure = AllowedBackends.parsePattern(bad) else { return XCTFail("\(bad) accepted") }
        }
        let address = try AllowedBackends.parsePattern("10.0.0.1.").get()
        XCTAssertEqual(address, .network(try CIDR.parse("10.0.0.1").get()))
        XCTAssertTrue(AllowedBackends([address]).permits(host: "10.0.0.1"))
        let name = try AllowedBackends.parsePattern("Imap.Example.Org.").get()
        XCTAssertEqual(name, .host("imap.example.org"))
        XCTAssertTrue(AllowedBackends([name]).permits(host: "imap.example.org."))
    }
}
