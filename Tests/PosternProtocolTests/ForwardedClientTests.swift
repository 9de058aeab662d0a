import XCTest

@testable import PosternProtocol

/// The client's identity told to a backend that trusts Postern: the values, their checks and the TTL.
final class ForwardedClientTests: XCTestCase {
    private let client = ForwardedClient(
        address: "192.0.2.7", port: 50000, localAddress: "198.51.100.1", localPort: 143, sessionID: "k3", ttl: 4)

    func testIDCommandCarriesEveryFieldInOrder() {
        XCTAssertEqual(
            text(client.imapIDCommand(tag: "P2")),
            "P2 ID (\"x-originating-ip\" \"192.0.2.7\" \"x-originating-port\" \"50000\" \"x-connected-ip\" "
                + "\"198.51.100.1\" \"x-connected-port\" \"143\" \"x-session-ext-id\" \"k3\" \"x-proxy-ttl\" \"4\")\r\n"
        )
    }

    func testClientFieldsComeFirstQuotedAndItsXFieldsAreDropped() {
        var forwarded = client
        forwarded.localAddress = nil
        forwarded.localPort = nil
        forwarded.clientID = [
            IDParameter("name", "Mail \"Pro\" \\ 2"), IDParameter("version", nil),
            IDParameter("x-originating-ip", "10.9.9.9"), IDParameter("X-Forward-Foo", "bar"),
            IDParameter("os", "line\r\nbreak"), IDParameter("vendor", "nul\u{0}"),
            IDParameter(String(repeating: "n", count: 31), "too long a name"),
        ]
        XCTAssertEqual(
            text(forwarded.imapIDCommand(tag: "P1")),
            "P1 ID (\"name\" \"Mail \\\"Pro\\\" \\\\ 2\" \"version\" NIL \"x-originating-ip\" \"192.0.2.7\" "
                + "\"x-originating-port\" \"50000\" \"x-session-ext-id\" \"k3\" \"x-proxy-ttl\" \"4\")\r\n")
    }

    func testAnUnsafeOwnValueIsLeftOut() {
        var forwarded = client
        forwarded.sessionID = "a\r\nb"
        XCTAssertFalse(text(forwarded.imapIDCommand(tag: "P1")).contains("x-session-ext-id"))
        XCTAssertEqual(text(forwarded.xclientCommand), "XCLIENT ADDR=192.0.2.7 PORT=50000 TTL=4\r\n")
    }

    func testAtMostThirtyPairs() {
        var forwarded = client
        forwarded.clientID = (0..<40).map { IDParameter("f\($0)", "v") }
        XCTAssertEqual(forwarded.idFields.count, 30)
        XCTAssertEqual(forwarded.idFields.last, IDParameter("x-proxy-ttl", "4"), "Postern's own fields are kept")
    }

    func testXCLIENTCommand() {
        XCTAssertEqual(text(client.xclientCommand), "XCLIENT ADDR=192.0.2.7 PORT=50000 SESSION=k3 TTL=4\r\n")
        var spaced = client
        spaced.sessionID = "a b"
        XCTAssertEqual(text(spaced.xclientCommand), "XCLIENT ADDR=192.0.2.7 PORT=50000 TTL=4\r\n")
    }

    func testTTLIsDecrementedCappedAndRunsOut() {
        XCTAssertEqual(ForwardedClient.nextTTL(clientTTL: nil), 4)
        XCTAssertEqual(ForwardedClient.nextTTL(clientTTL: "3"), 2)
        XCTAssertEqual(ForwardedClient.nextTTL(clientTTL: "1000"), 4, "a client cannot raise the count")
        XCTAssertEqual(ForwardedClient.nextTTL(clientTTL: "two"), 4, "garbage is ignored")
        XCTAssertEqual(ForwardedClient.nextTTL(clientTTL: "-3"), 4, "not a decimal number: ignored")
        XCTAssertNil(ForwardedClient.nextTTL(clientTTL: "1"), "a loop: the count ran out")
        XCTAssertNil(ForwardedClient.nextTTL(clientTTL: "0"))
    }

    func testSafety() {
        XCTAssertTrue(ForwardedClient.isSafe("2001:db8::1"))
        for bad in ["a\rb", "a\nb", "a\u{0}b", "a\tb", "a\u{7F}"] { XCTAssertFalse(ForwardedClient.isSafe(bad), bad) }
    }
}
