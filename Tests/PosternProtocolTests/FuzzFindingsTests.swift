import XCTest

@testable import PosternProtocol

/// Regression tests for what the coverage-guided fuzzers found (docs/hardening.md, "What the fuzzers found").
final class FuzzFindingsTests: XCTestCase {
    // FuzzIMAPReader, FuzzFrontEnd: the tag of an overlong line was read from the first 65 bytes that had
    // arrived, so a long first word gave a tag when it came in pieces and none when it came whole (or the
    // other way round), and the BAD the client got depended on the chunking.

    func testOverlongLineWithoutASpaceHasNoTagInAnyChunking() {
        let wire = bytes("t2 ID {40+}\r\n" + String(repeating: "y", count: 40) + "\r\n")
        for sizes in [[wire.count], [1], [6], [1, 6], [13, 9]] {
            var reader = IMAPCommandReader(maxLine: 8)
            XCTAssertEqual(reader.feed(wire, chunkSizes: sizes), [.tooLong(tag: "t2"), .tooLong(tag: nil)], "\(sizes)")
        }
    }

    func testATagLongerThanTheLineBoundIsNoTagInAnyChunking() {
        let wire = bytes("abcdefghijkl NOOP\r\n")
        for sizes in [[wire.count], [1], [9], [12, 1]] {
            var reader = IMAPCommandReader(maxLine: 8)
            XCTAssertEqual(reader.feed(wire, chunkSizes: sizes), [.tooLong(tag: nil)], "\(sizes)")
        }
    }

    func testOverlongLineKeepsAShortTag() {
        let wire = bytes("a1 NOOP " + String(repeating: "x", count: 40) + "\r\n")
        for sizes in [[wire.count], [1], [9]] {
            var reader = IMAPCommandReader(maxLine: 8)
            XCTAssertEqual(reader.feed(wire, chunkSizes: sizes), [.tooLong(tag: "a1")], "\(sizes)")
        }
    }

    // FuzzFrontEnd: IMAP ID fields given before STARTTLS survived it and went to the backend (and their
    // x-proxy-ttl counted), though anyone on the path could have written them.

    func testIMAPIDBeforeSTARTTLSIsForgotten() {
        var frontEnd = IMAPFrontEnd(
            options: FrontEndOptions(
                starttlsOffered: true, tlsActive: false, tlsRequiredForLogin: false, maxLine: 1024, maxLoginAttempts: 3)
        )
        _ = frontEnd.greeting()
        _ = frontEnd.receive(bytes("a0 ID (\"name\" \"injected\" \"x-proxy-ttl\" \"1\")\r\n"))
        XCTAssertEqual(frontEnd.clientID.map(\.0), ["name", "x-proxy-ttl"])
        XCTAssertEqual(
            frontEnd.receive(bytes("a1 STARTTLS\r\n")), [send("a1 OK Begin TLS negotiation now.\r\n"), .startTLS])
        XCTAssertTrue(frontEnd.clientID.isEmpty, "ID fields from before STARTTLS")
        XCTAssertEqual(frontEnd.tlsEstablished(), [])
        _ = frontEnd.receive(bytes("a2 ID (\"name\" \"client\")\r\n"))
        XCTAssertEqual(frontEnd.clientID.map(\.1), ["client"], "an ID after the handshake is kept")
    }

    // FuzzIMAPBackEnd, FuzzPOP3BackEnd: a bare CR (or NUL) in the backend's final line went on to the client
    // inside the one reply line Postern writes for it.

    func testControlCharactersInTheBackendsFinalLineBecomeSpaces() {
        var imap = IMAPBackEndLogin(credentials: Credentials(user: "alice", password: "secret"), useStartTLS: false)
        _ = imap.receive(bytes("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] ready\r\n"))
        XCTAssertEqual(imap.receive(bytes("P1 NO fail\rad\u{0}x\r\n")), [.failed(.rejected(text: "NO fail ad x"))])

        var pop3 = POP3BackEndLogin(
            credentials: Credentials(user: "alice", password: "secret"), options: BackEndOptions(useStartTLS: false))
        _ = pop3.receive(bytes("+OK ready\r\n-ERR no CAPA\r\n"))
        XCTAssertEqual(pop3.receive(bytes("+OK\r\n")), [backSend("PASS secret\r\n")])
        XCTAssertEqual(
            pop3.receive(bytes("+OK in\r\u{7F}\tok\r\n")), [.succeeded(text: "+OK in  \tok", leftover: [])])
    }
}
