import XCTest

@testable import PosternProtocol

/// The ManageSieve front end and its command reader.
final class SieveFrontEndTests: XCTestCase {
    /// base64("\0tim\0tanstaaftanstaaf"), the RFC 4616 example.
    private let timPlain = "AHRpbQB0YW5zdGFhZnRhbnN0YWFm"
    private let tim = loginAction("tim", "tanstaaftanstaaf", mechanism: .plain)

    private func sieve(_ options: FrontEndOptions = frontEndOptions(), _ caps: SieveCapabilities = .init())
        -> SieveFrontEnd
    {
        var frontEnd = SieveFrontEnd(options: options, capabilities: caps)
        _ = frontEnd.greeting()
        return frontEnd
    }

    private func receive(_ frontEnd: inout SieveFrontEnd, _ text: String) -> [FrontEndAction] {
        frontEnd.receive(bytes(text))
    }

    // MARK: Capabilities

    func testGreetingIsTheCapabilityBlock() {
        var frontEnd = SieveFrontEnd(options: frontEndOptions())
        XCTAssertEqual(
            text(frontEnd.greeting()),
            "\"IMPLEMENTATION\" \"Postern\"\r\n\"SASL\" \"PLAIN LOGIN\"\r\n"
                + "\"SIEVE\" \"\(SieveCapabilities.pigeonholeExtensions)\"\r\n\"NOTIFY\" \"mailto\"\r\n"
                + "\"STARTTLS\"\r\n\"VERSION\" \"1.0\"\r\nOK \"Postern ready.\"\r\n")
    }

    func testConfiguredSieveAndNotify() {
        var frontEnd = SieveFrontEnd(
            options: frontEndOptions(starttlsOffered: false, mechanisms: [.plain, .oauthbearer]),
            capabilities: SieveCapabilities(sieve: "fileinto vacation", notify: ""))
        XCTAssertEqual(
            text(frontEnd.greeting()),
            "\"IMPLEMENTATION\" \"Postern\"\r\n\"SASL\" \"PLAIN OAUTHBEARER\"\r\n\"SIEVE\" \"fileinto vacation\"\r\n"
                + "\"VERSION\" \"1.0\"\r\nOK \"Postern ready.\"\r\n")
    }

    func testNoMechanismsBeforeTLSOnARequiredListener() {
        var frontEnd = sieve(frontEndOptions(tlsRequiredForLogin: true))
        let caps = sentText(receive(&frontEnd, "CAPABILITY\r\n"))
        XCTAssertTrue(caps.contains("\"SASL\" \"\"\r\n"), caps)
        XCTAssertTrue(caps.hasSuffix("OK \"Capability completed.\"\r\n"), caps)
        XCTAssertEqual(
            receive(&frontEnd, "AUTHENTICATE \"PLAIN\" \"\(timPlain)\"\r\n"),
            [send("NO (ENCRYPT-NEEDED) \"Authentication is disabled; use STARTTLS first.\"\r\n")])
    }

    func testStartTLSSendsTheCapabilitiesAgain() {
        var frontEnd = sieve()
        XCTAssertEqual(
            receive(&frontEnd, "STARTTLS\r\nAUTHENTICATE \"PLAIN\" \"\(timPlain)\"\r\n"),
            [send("OK \"Begin TLS negotiation now.\"\r\n"), .startTLS], "pipelined plaintext is dropped")
        XCTAssertEqual(receive(&frontEnd, "LOGOUT\r\n"), [], "nothing is read during the handshake")
        let after = sentText(frontEnd.tlsEstablished())
        XCTAssertTrue(after.hasPrefix("\"IMPLEMENTATION\" \"Postern\"\r\n"), after)
        XCTAssertFalse(after.contains("STARTTLS"), after)
        XCTAssertTrue(after.hasSuffix("\"VERSION\" \"1.0\"\r\nOK \"TLS negotiation successful.\"\r\n"), after)
        XCTAssertEqual(frontEnd.tlsEstablished(), [], "only once")
        XCTAssertEqual(
            receive(&frontEnd, "STARTTLS\r\n"), [send("NO \"TLS is already active.\"\r\n")])
    }

    // MARK: AUTHENTICATE

    func testAuthenticatePlainWithQuotedInitialResponse() {
        var frontEnd = sieve()
        XCTAssertEqual(receive(&frontEnd, "AUTHENTICATE \"PLAIN\" \"\(timPlain)\"\r\n"), [tim])
    }

    func testAuthenticatePlainWithLiteralInitialResponse() {
        for plus in ["+", ""] {
            var frontEnd = sieve()
            let wire = bytes("Authenticate \"plain\" {\(timPlain.utf8.count)\(plus)}\r\n\(timPlain)\r\n")
            XCTAssertEqual(frontEnd.receive(wire, chunkSizes: [3]), [tim], "literal {n\(plus)}")
        }
    }

    func testAuthenticatePlainWithContinuation() {
        var frontEnd = sieve()
        XCTAssertEqual(receive(&frontEnd, "AUTHENTICATE \"PLAIN\"\r\n"), [send("\"\"\r\n")])
        XCTAssertEqual(receive(&frontEnd, "\"\(timPlain)\"\r\n"), [tim])
        var literal = sieve()
        _ = receive(&literal, "AUTHENTICATE \"PLAIN\"\r\n")
        XCTAssertEqual(receive(&literal, "{\(timPlain.utf8.count)+}\r\n\(timPlain)\r\n"), [tim])
    }

    func testAuthenticateLogin() {
        var frontEnd = sieve()
        XCTAssertEqual(receive(&frontEnd, "AUTHENTICATE \"LOGIN\"\r\n"), [send("\"VXNlcm5hbWU6\"\r\n")])
        XCTAssertEqual(receive(&frontEnd, "\"YWxpY2U=\"\r\n"), [send("\"UGFzc3dvcmQ6\"\r\n")])
        XCTAssertEqual(receive(&frontEnd, "\"cHc=\"\r\n"), [loginAction("alice", "pw", mechanism: .saslLogin)])
    }

    func testCancelInvalidAndUnsupported() {
        var frontEnd = sieve()
        _ = receive(&frontEnd, "AUTHENTICATE \"PLAIN\"\r\n")
        XCTAssertEqual(receive(&frontEnd, "\"*\"\r\n"), [send("NO \"Authentication cancelled.\"\r\n")])
        _ = receive(&frontEnd, "AUTHENTICATE \"PLAIN\"\r\n")
        XCTAssertEqual(receive(&frontEnd, "\"%%%\"\r\n"), [send("NO \"Invalid base64 data.\"\r\n")])
        _ = receive(&frontEnd, "AUTHENTICATE \"PLAIN\"\r\n")
        XCTAssertEqual(receive(&frontEnd, "(x)\r\n"), [send("NO \"Expected a SASL response string.\"\r\n")])
        XCTAssertEqual(
            receive(&frontEnd, "AUTHENTICATE \"PLAIN\" \"*\"\r\n"), [send("NO \"Invalid base64 data.\"\r\n")])
        XCTAssertEqual(
            receive(&frontEnd, "AUTHENTICATE \"GSSAPI\"\r\n"),
            [send("NO \"Unsupported authentication mechanism.\"\r\n")])
        XCTAssertEqual(
            receive(&frontEnd, "AUTHENTICATE \"XOAUTH2\" \"\"\r\n"),
            [send("NO \"Unsupported authentication mechanism.\"\r\n")], "not enabled on this listener")
        XCTAssertEqual(
            receive(&frontEnd, "AUTHENTICATE\r\n"),
            [send("NO \"AUTHENTICATE expects a mechanism name as a string.\"\r\n")])
    }

    func testAuthenticateOAUTHBEARERPassesTheResponseThrough() {
        var frontEnd = sieve(frontEndOptions(mechanisms: [.oauthbearer]))
        let response = bytes("n,a=bob,\u{1}auth=Bearer a.b.c\u{1}\u{1}")
        XCTAssertEqual(
            receive(&frontEnd, "AUTHENTICATE \"OAUTHBEARER\" \"\(SASL.base64Encode(response))\"\r\n"),
            [
                .login(
                    LoginRequest(
                        credentials: Credentials(
                            user: "bob", passThrough: SASLPassThrough(mechanism: .oauthbearer, response: response)),
                        mechanism: .oauthbearer))
            ])
    }

    // MARK: Other commands and outcomes

    func testNoopLogoutAndUnknownCommands() {
        var frontEnd = sieve()
        XCTAssertEqual(receive(&frontEnd, "NOOP\r\n"), [send("OK \"NOOP completed.\"\r\n")])
        XCTAssertEqual(receive(&frontEnd, "noop \"t1\"\r\n"), [send("OK (TAG \"t1\") \"Done.\"\r\n")])
        XCTAssertEqual(
            receive(&frontEnd, "LISTSCRIPTS\r\n"), [send("NO \"Unknown command or not valid before login.\"\r\n")])
        XCTAssertEqual(receive(&frontEnd, "\"quoted\"\r\n"), [send("NO \"Invalid command.\"\r\n")])
        XCTAssertEqual(receive(&frontEnd, "LOGOUT\r\nNOOP\r\n"), [send("OK \"Logout completed.\"\r\n"), .close])
        XCTAssertEqual(receive(&frontEnd, "NOOP\r\n"), [])
    }

    func testOutcomes() {
        var frontEnd = sieve(frontEndOptions(maxLoginAttempts: 2))
        _ = receive(&frontEnd, "AUTHENTICATE \"PLAIN\" \"\(timPlain)\"\r\nNOOP\r\n")
        XCTAssertEqual(
            frontEnd.loginFinished(.rejected(text: "NO \"Authentication failed.\"")),
            [send("NO \"Authentication failed.\"\r\nOK \"NOOP completed.\"\r\n")])
        _ = receive(&frontEnd, "AUTHENTICATE \"PLAIN\" \"\(timPlain)\"\r\n")
        XCTAssertEqual(
            frontEnd.loginFinished(.unavailable(reason: "Backend \"B\" down.")),
            [send("NO (TRYLATER) \"Backend \\\"B\\\" down.\"\r\nBYE \"Too many failed logins.\"\r\n"), .close])
        var ok = sieve()
        _ = receive(&ok, "AUTHENTICATE \"PLAIN\" \"\(timPlain)\"\r\nLISTSCRIPTS\r\n")
        XCTAssertEqual(
            ok.loginFinished(.success(text: "OK \"Logged in.\"")),
            [send("OK \"Logged in.\"\r\n"), .relay(pipelined: bytes("LISTSCRIPTS\r\n"))])
        var unknown = sieve()
        _ = receive(&unknown, "AUTHENTICATE \"PLAIN\" \"\(timPlain)\"\r\n")
        XCTAssertEqual(unknown.loginFinished(.unknownUser), [send("NO \"Authentication failed.\"\r\n")])
    }

    // MARK: Bounds

    func testOverlongLineThenRecovery() {
        var frontEnd = sieve(frontEndOptions(maxLine: 512))
        XCTAssertEqual(
            receive(&frontEnd, "NOOP \"" + String(repeating: "x", count: 600) + "\"\r\nNOOP\r\n"),
            [send("NO \"Line too long.\"\r\nOK \"NOOP completed.\"\r\n")])
    }

    func testEndlessLineCloses() {
        var frontEnd = sieve(frontEndOptions(maxLine: 512))
        var actions: [FrontEndAction] = []
        for _ in 0..<4 { actions += frontEnd.receive([UInt8](repeating: 65, count: 400)) }
        XCTAssertEqual(actions, [send("NO \"Line too long.\"\r\n"), send("BYE \"Line too long.\"\r\n"), .close])
    }

    func testOversizedLiteralIsUnrecoverable() {
        var frontEnd = sieve(frontEndOptions(maxLine: 512))
        XCTAssertEqual(
            receive(&frontEnd, "AUTHENTICATE \"PLAIN\" {513+}\r\n"),
            [send("NO \"Literal too large.\"\r\nBYE \"Literal too large.\"\r\n"), .close],
            "refused like any command that ends the connection, then the farewell")
        XCTAssertEqual(frontEnd.closeReason, .unrecoverable)
    }

    func testMessages() {
        let frontEnd = sieve()
        XCTAssertEqual(text(frontEnd.timeoutMessage()), "BYE \"Login timeout.\"\r\n")
        XCTAssertEqual(text(frontEnd.shutdownMessage()), "BYE \"Server shutting down.\"\r\n")
    }

    // MARK: Reader

    func testReaderFramesLiteralsAcrossChunks() {
        let wire = bytes("PUTSCRIPT \"a\" {5+}\r\nab\ncd\r\nNOOP\r\n")
        var whole = SieveCommandReader(maxLine: 512)
        whole.append(wire)
        var expected: [SieveCommandReader.Event] = []
        while let event = whole.next() { expected.append(event) }
        XCTAssertEqual(expected.count, 2)
        guard case .line(let data, let segments) = expected[0] else { return XCTFail("\(expected)") }
        XCTAssertEqual(
            try SieveCommandReader.parseCommand(bytes: data, segments: segments).get(),
            SieveCommand(name: "PUTSCRIPT", arguments: [string("a"), string("ab\ncd")]))
        for size in [1, 2, 5, 9] {
            var reader = SieveCommandReader(maxLine: 512)
            var events: [SieveCommandReader.Event] = []
            for chunk in chunked(wire, sizes: [size]) {
                reader.append(chunk)
                while let event = reader.next() { events.append(event) }
            }
            XCTAssertEqual(events, expected, "chunks of \(size)")
        }
    }

    func testQuotingEscapes() {
        XCTAssertEqual(SieveText.quoted("a\"b\\c\r\nd"), "\"a\\\"b\\\\c d\"")
    }
}
