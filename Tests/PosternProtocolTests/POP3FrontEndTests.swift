import XCTest

@testable import PosternProtocol

/// The POP3 front end: CAPA, STLS, USER/PASS, AUTH, QUIT, outcomes and bounds.
final class POP3FrontEndTests: XCTestCase {
    /// base64("\0tim\0tanstaaftanstaaf"), the RFC 4616 example.
    private let timPlain = "AHRpbQB0YW5zdGFhZnRhbnN0YWFm"

    private func pop3(_ options: FrontEndOptions = frontEndOptions()) -> POP3FrontEnd {
        var frontEnd = POP3FrontEnd(options: options)
        _ = frontEnd.greeting()
        return frontEnd
    }

    private func capa(_ frontEnd: inout POP3FrontEnd) -> String { sentText(frontEnd.receive(bytes("CAPA\r\n"))) }

    // MARK: Greeting and CAPA

    func testGreetingHasNoAPOPTimestamp() {
        var frontEnd = POP3FrontEnd(options: frontEndOptions())
        XCTAssertEqual(text(frontEnd.greeting()), "+OK Postern ready.\r\n")
    }

    func testCapaOnAStartTLSListener() {
        var frontEnd = pop3()
        XCTAssertEqual(
            capa(&frontEnd),
            "+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\nUSER\r\n"
                + "SASL PLAIN LOGIN\r\nSTLS\r\nIMPLEMENTATION Postern\r\n.\r\n")
    }

    func testCapaWithholdsUserAndSASLWhilePlaintextLoginIsNotAllowed() {
        var frontEnd = pop3(frontEndOptions(tlsRequiredForLogin: true))
        let before = capa(&frontEnd)
        XCTAssertFalse(before.contains("USER"), before)
        XCTAssertFalse(before.contains("SASL"), before)
        XCTAssertTrue(before.contains("STLS\r\n"), before)
        XCTAssertEqual(frontEnd.receive(bytes("STLS\r\n")), [send("+OK Begin TLS negotiation now.\r\n"), .startTLS])
        XCTAssertEqual(frontEnd.tlsEstablished(), [])
        let after = capa(&frontEnd)
        XCTAssertTrue(after.contains("\r\nUSER\r\nSASL PLAIN LOGIN\r\n"), after)
        XCTAssertFalse(after.contains("STLS"), after)
    }

    func testCapaListsTheListenersMechanismsInOrder() {
        var frontEnd = pop3(frontEndOptions(mechanisms: [.oauthbearer, .plain]))
        XCTAssertTrue(capa(&frontEnd).contains("\r\nUSER\r\nSASL OAUTHBEARER PLAIN\r\n"))
        var tokensOnly = pop3(frontEndOptions(mechanisms: [.xoauth2]))
        let text = capa(&tokensOnly)
        XCTAssertFalse(text.contains("USER"), "no password mechanism: no USER")
        XCTAssertTrue(text.contains("SASL XOAUTH2\r\n"), text)
        XCTAssertEqual(
            tokensOnly.receive(bytes("USER alice\r\n")), [send("-ERR USER is disabled on this port.\r\n")])
        XCTAssertEqual(
            tokensOnly.receive(bytes("AUTH PLAIN \(timPlain)\r\n")),
            [send("-ERR Unsupported authentication mechanism.\r\n")])
    }

    func testAuthWithoutArgumentsListsMechanisms() {
        var frontEnd = pop3()
        XCTAssertEqual(frontEnd.receive(bytes("AUTH\r\n")), [send("+OK\r\nPLAIN\r\nLOGIN\r\n.\r\n")])
    }

    // MARK: USER / PASS

    func testUserPassKeepsSpacesInThePassword() {
        var frontEnd = pop3()
        XCTAssertEqual(frontEnd.receive(bytes("USER carol\r\n")), [send("+OK\r\n")])
        XCTAssertEqual(
            frontEnd.receive(bytes("PASS  c\"a\\rol pw3 \r\n")),
            [loginAction("carol", " c\"a\\rol pw3 ", mechanism: .login)])
    }

    func testUserPassCaseInsensitiveByteByByte() {
        var frontEnd = pop3()
        XCTAssertEqual(
            frontEnd.receive(bytes("user alice\r\npass secret\r\n"), chunkSizes: [1]),
            [send("+OK\r\n"), loginAction("alice", "secret", mechanism: .login)])
    }

    func testPassWithoutUser() {
        var frontEnd = pop3()
        XCTAssertEqual(frontEnd.receive(bytes("PASS x\r\n")), [send("-ERR No user name given; send USER first.\r\n")])
        _ = frontEnd.receive(bytes("USER alice\r\n"))
        _ = frontEnd.receive(bytes("CAPA\r\n"))
        XCTAssertEqual(
            frontEnd.receive(bytes("PASS x\r\n")), [send("-ERR No user name given; send USER first.\r\n")],
            "another command in between forgets the user")
    }

    func testUserBeforeTLSOnARequiredListener() {
        var frontEnd = pop3(frontEndOptions(tlsRequiredForLogin: true))
        XCTAssertEqual(
            frontEnd.receive(bytes("USER alice\r\n")),
            [send("-ERR [AUTH] Plaintext login is disabled; use STLS first.\r\n")])
        XCTAssertEqual(
            frontEnd.receive(bytes("AUTH PLAIN \(timPlain)\r\n")),
            [send("-ERR [AUTH] Authentication is disabled; use STLS first.\r\n")])
    }

    func testUserNeedsAName() {
        var frontEnd = pop3()
        XCTAssertEqual(frontEnd.receive(bytes("USER\r\n")), [send("-ERR USER expects a user name.\r\n")])
        XCTAssertEqual(frontEnd.receive(bytes("USER \r\n")), [send("-ERR USER expects a user name.\r\n")])
    }

    // MARK: AUTH

    func testAuthPlainWithInitialResponse() {
        var frontEnd = pop3()
        XCTAssertEqual(
            frontEnd.receive(bytes("AUTH PLAIN \(timPlain)\r\n")),
            [loginAction("tim", "tanstaaftanstaaf", mechanism: .plain)])
    }

    func testAuthPlainWithContinuation() {
        var frontEnd = pop3()
        XCTAssertEqual(frontEnd.receive(bytes("AUTH plain\r\n")), [send("+ \r\n")])
        XCTAssertEqual(
            frontEnd.receive(bytes("\(timPlain)\r\n")), [loginAction("tim", "tanstaaftanstaaf", mechanism: .plain)])
    }

    func testAuthLoginTwoSteps() {
        var frontEnd = pop3()
        XCTAssertEqual(frontEnd.receive(bytes("AUTH LOGIN\r\n")), [send("+ VXNlcm5hbWU6\r\n")])
        XCTAssertEqual(
            frontEnd.receive(bytes("\(SASL.base64Encode(bytes("alice")))\r\n")), [send("+ UGFzc3dvcmQ6\r\n")])
        XCTAssertEqual(
            frontEnd.receive(bytes("\(SASL.base64Encode(bytes("pw")))\r\n")),
            [loginAction("alice", "pw", mechanism: .saslLogin)])
    }

    func testAuthCancelledAndInvalid() {
        var frontEnd = pop3()
        XCTAssertEqual(frontEnd.receive(bytes("AUTH PLAIN\r\n")), [send("+ \r\n")])
        XCTAssertEqual(frontEnd.receive(bytes("*\r\n")), [send("-ERR Authentication cancelled.\r\n")])
        XCTAssertEqual(frontEnd.receive(bytes("AUTH PLAIN\r\n")), [send("+ \r\n")])
        XCTAssertEqual(frontEnd.receive(bytes("not base64!\r\n")), [send("-ERR Invalid base64 data.\r\n")])
        XCTAssertEqual(frontEnd.receive(bytes("AUTH PLAIN *\r\n")), [send("-ERR Invalid base64 data.\r\n")])
        XCTAssertEqual(
            frontEnd.receive(bytes("AUTH PLAIN \(SASL.base64Encode(bytes("nonul")))\r\n")),
            [send("-ERR [AUTH] Malformed PLAIN response.\r\n")])
        XCTAssertEqual(
            frontEnd.receive(bytes("AUTH CRAM-MD5\r\n")), [send("-ERR Unsupported authentication mechanism.\r\n")])
        XCTAssertEqual(
            frontEnd.receive(bytes("AUTH PLAIN a b\r\n")),
            [send("-ERR AUTH expects a mechanism and an optional initial response.\r\n")])
        XCTAssertEqual(frontEnd.receive(bytes("CAPA\r\n")).count, 1, "the session goes on")
    }

    func testAuthXOAUTH2PassesTheResponseThrough() {
        var frontEnd = pop3(frontEndOptions(mechanisms: [.plain, .xoauth2]))
        let response = bytes("user=alice\u{1}auth=Bearer abc.def.ghi\u{1}\u{1}")
        let actions = frontEnd.receive(bytes("AUTH XOAUTH2 \(SASL.base64Encode(response))\r\n"))
        XCTAssertEqual(
            actions,
            [
                .login(
                    LoginRequest(
                        credentials: Credentials(
                            user: "alice", passThrough: SASLPassThrough(mechanism: .xoauth2, response: response)),
                        mechanism: .xoauth2))
            ])
    }

    // MARK: Outcomes

    func testSuccessRelaysTheBackendLineAndPipelinedCommands() {
        var frontEnd = pop3()
        XCTAssertEqual(
            frontEnd.receive(bytes("USER a\r\nPASS b\r\nSTAT\r\nLIST\r\n")),
            [send("+OK\r\n"), loginAction("a", "b", mechanism: .login)])
        XCTAssertEqual(frontEnd.receive(bytes("RETR 1\r\n")), [], "held while logging in")
        XCTAssertEqual(
            frontEnd.loginFinished(.success(text: "+OK Logged in.")),
            [send("+OK Logged in.\r\n"), .relay(pipelined: bytes("STAT\r\nLIST\r\nRETR 1\r\n"))])
        XCTAssertEqual(frontEnd.receive(bytes("QUIT\r\n")), [])
    }

    func testRejectionsRetriesAndTheLimit() {
        var frontEnd = pop3(frontEndOptions(maxLoginAttempts: 3))
        _ = frontEnd.receive(bytes("USER a\r\nPASS wrong\r\n"))
        XCTAssertEqual(
            frontEnd.loginFinished(.rejected(text: "-ERR [AUTH] Authentication failed.")),
            [send("-ERR [AUTH] Authentication failed.\r\n")])
        _ = frontEnd.receive(bytes("AUTH PLAIN \(timPlain)\r\n"))
        XCTAssertEqual(frontEnd.loginFinished(.unknownUser), [send("-ERR [AUTH] Authentication failed.\r\n")])
        _ = frontEnd.receive(bytes("AUTH PLAIN \(timPlain)\r\n"))
        XCTAssertEqual(
            frontEnd.loginFinished(.unavailable(reason: "Backend server unavailable, try again later.")),
            [send("-ERR [SYS/TEMP] Backend server unavailable, try again later.\r\n"), .close])
        XCTAssertEqual(frontEnd.receive(bytes("CAPA\r\n")), [])
    }

    func testQuitAndUnknownCommands() {
        var frontEnd = pop3()
        XCTAssertEqual(
            frontEnd.receive(bytes("APOP alice 0123456789abcdef0123456789abcdef\r\n")),
            [send("-ERR Unknown command or not valid before login.\r\n")])
        XCTAssertEqual(
            frontEnd.receive(bytes("STAT\r\n")), [send("-ERR Unknown command or not valid before login.\r\n")])
        XCTAssertEqual(frontEnd.receive(bytes("QUIT\r\nCAPA\r\n")), [send("+OK Logging out.\r\n"), .close])
        XCTAssertEqual(frontEnd.receive(bytes("CAPA\r\n")), [])
    }

    func testTooManyInvalidCommandsClose() {
        var frontEnd = pop3()
        let unknown = "-ERR Unknown command or not valid before login.\r\n"
        XCTAssertEqual(
            frontEnd.receive(bytes(String(repeating: "XYZZY\r\n", count: 12))),
            [send(String(repeating: unknown, count: 10)), .close], "ten replies in one send, then the close")
        XCTAssertEqual(frontEnd.receive(bytes("CAPA\r\n")), [])
    }

    // MARK: STLS

    func testAUserNameGivenBeforeSTLSIsForgottenAfterIt() {
        var frontEnd = pop3()
        XCTAssertEqual(frontEnd.receive(bytes("USER alice\r\n")).count, 1)
        XCTAssertEqual(frontEnd.receive(bytes("STLS\r\n")), [send("+OK Begin TLS negotiation now.\r\n"), .startTLS])
        XCTAssertEqual(frontEnd.tlsEstablished(), [])
        XCTAssertEqual(frontEnd.receive(bytes("PASS x\r\n")), [send("-ERR No user name given; send USER first.\r\n")])
    }

    func testSTLSDropsPipelinedBytesAndIsOfferedOnce() {
        var frontEnd = pop3()
        XCTAssertEqual(
            frontEnd.receive(bytes("STLS\r\nUSER evil\r\n")), [send("+OK Begin TLS negotiation now.\r\n"), .startTLS])
        XCTAssertEqual(frontEnd.receive(bytes("PASS x\r\n")), [], "nothing is read during the handshake")
        XCTAssertEqual(frontEnd.tlsEstablished(), [])
        XCTAssertEqual(frontEnd.receive(bytes("PASS x\r\n")), [send("-ERR No user name given; send USER first.\r\n")])
        XCTAssertEqual(frontEnd.receive(bytes("STLS\r\n")), [send("-ERR TLS is already active.\r\n")])
        var none = pop3(frontEndOptions(starttlsOffered: false))
        XCTAssertEqual(none.receive(bytes("STLS\r\n")), [send("-ERR STLS is not available.\r\n")])
    }

    // MARK: Bounds

    func testOverlongLineGetsAnErrorThenTheNextCommandWorks() {
        var frontEnd = pop3(frontEndOptions(maxLine: 512))
        XCTAssertEqual(
            frontEnd.receive(bytes("USER " + String(repeating: "a", count: 600) + "\r\nUSER bob\r\n")),
            [send("-ERR Line too long.\r\n+OK\r\n")])
    }

    func testEndlessLineCloses() {
        var frontEnd = pop3(frontEndOptions(maxLine: 512))
        var actions: [FrontEndAction] = []
        for _ in 0..<4 { actions += frontEnd.receive([UInt8](repeating: 65, count: 400)) }
        XCTAssertEqual(actions, [send("-ERR Line too long.\r\n"), send("-ERR Line too long.\r\n"), .close])
    }

    func testOverlongSASLResponseEndsTheExchange() {
        var frontEnd = pop3(frontEndOptions(maxLine: 512))
        _ = frontEnd.receive(bytes("AUTH PLAIN\r\n"))
        XCTAssertTrue(
            sentText(frontEnd.receive(bytes(String(repeating: "QUFB", count: 200) + "\r\nCAPA\r\n")))
                .hasPrefix("-ERR Line too long.\r\n+OK Capability list follows\r\n"))
        XCTAssertEqual(frontEnd.receive(bytes("*\r\n")), [send("-ERR Unknown command or not valid before login.\r\n")])
    }

    func testMessages() {
        let frontEnd = pop3()
        XCTAssertEqual(text(frontEnd.timeoutMessage()), "-ERR Disconnected: login timeout.\r\n")
        XCTAssertEqual(text(frontEnd.shutdownMessage()), "-ERR Disconnected: server shutting down.\r\n")
    }
}
