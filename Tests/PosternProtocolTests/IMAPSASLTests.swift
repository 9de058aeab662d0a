import XCTest

@testable import PosternProtocol

/// IMAP AUTHENTICATE LOGIN, XOAUTH2 and OAUTHBEARER, per-listener mechanisms, and token pass-through to the backend.
final class IMAPSASLTests: XCTestCase {
    private let xoauth2Response = bytes("user=alice@example.org\u{1}auth=Bearer aaa.bbb.ccc\u{1}\u{1}")
    private let bearerResponse = bytes("n,a=bob,\u{1}host=h\u{1}port=143\u{1}auth=Bearer aaa.bbb.ccc\u{1}\u{1}")

    private func bearerLogin(_ user: String, _ mechanism: SASLMechanism, _ response: [UInt8]) -> FrontEndAction {
        .login(
            LoginRequest(
                credentials: Credentials(
                    user: user, passThrough: SASLPassThrough(mechanism: mechanism, response: response)),
                mechanism: mechanism == .xoauth2 ? .xoauth2 : .oauthbearer))
    }

    // MARK: Front end

    func testCapabilitiesFollowTheListenersMechanisms() {
        var all = IMAPFrontEnd(options: frontEndOptions(mechanisms: [.plain, .login, .xoauth2, .oauthbearer]))
        XCTAssertEqual(
            text(all.greeting()),
            "* OK [CAPABILITY IMAP4rev1 SASL-IR LITERAL+ ID STARTTLS AUTH=PLAIN AUTH=LOGIN AUTH=XOAUTH2 "
                + "AUTH=OAUTHBEARER] Postern ready.\r\n")
        var tokens = IMAPFrontEnd(options: frontEndOptions(mechanisms: [.oauthbearer]))
        XCTAssertEqual(
            text(tokens.greeting()),
            "* OK [CAPABILITY IMAP4rev1 SASL-IR LITERAL+ ID STARTTLS AUTH=OAUTHBEARER LOGINDISABLED] Postern ready.\r\n",
            "no password mechanism: LOGIN is disabled")
        XCTAssertEqual(
            tokens.receive("a LOGIN alice pw\r\n"), [send("a NO [CANNOT] LOGIN is disabled on this port.\r\n")])
        XCTAssertEqual(
            tokens.receive("b AUTHENTICATE PLAIN AGEAYg==\r\n"),
            [send("b NO Unsupported authentication mechanism.\r\n")])
    }

    func testAuthenticateLogin() {
        var frontEnd = makeFrontEnd()
        XCTAssertEqual(frontEnd.receive("a AUTHENTICATE LOGIN\r\n"), [send("+ VXNlcm5hbWU6\r\n")])
        XCTAssertEqual(frontEnd.receive("YWxpY2U=\r\n"), [send("+ UGFzc3dvcmQ6\r\n")])
        XCTAssertEqual(frontEnd.receive("cCB3\r\n"), [loginAction("alice", "p w", mechanism: .saslLogin)])
        XCTAssertEqual(
            frontEnd.loginFinished(.rejected(text: "NO [AUTHENTICATIONFAILED] x")),
            [send("a NO [AUTHENTICATIONFAILED] x\r\n")])
    }

    func testAuthenticateLoginWithInitialResponseAndCancel() {
        var frontEnd = makeFrontEnd()
        XCTAssertEqual(frontEnd.receive("a AUTHENTICATE LOGIN YWxpY2U=\r\n"), [send("+ UGFzc3dvcmQ6\r\n")])
        XCTAssertEqual(frontEnd.receive("*\r\n"), [send("a BAD AUTHENTICATE cancelled.\r\n")])
        XCTAssertEqual(frontEnd.receive("b NOOP\r\n"), [send("b OK NOOP completed.\r\n")])
    }

    func testXOAUTH2AndOAUTHBEARERWithSASLIR() {
        var frontEnd = makeFrontEnd(frontEndOptions(mechanisms: [.xoauth2, .oauthbearer]))
        XCTAssertEqual(
            frontEnd.receive("a AUTHENTICATE XOAUTH2 \(SASL.base64Encode(xoauth2Response))\r\n"),
            [bearerLogin("alice@example.org", .xoauth2, xoauth2Response)])
        XCTAssertEqual(
            frontEnd.loginFinished(.success(text: "OK Logged in")), [send("a OK Logged in\r\n"), .relay(pipelined: [])])
        var bearer = makeFrontEnd(frontEndOptions(mechanisms: [.oauthbearer]))
        XCTAssertEqual(bearer.receive("b authenticate oauthbearer\r\n"), [send("+ \r\n")])
        XCTAssertEqual(
            bearer.receive("\(SASL.base64Encode(bearerResponse))\r\n"),
            [bearerLogin("bob", .oauthbearer, bearerResponse)])
    }

    func testMalformedTokenResponses() {
        var frontEnd = makeFrontEnd(frontEndOptions(mechanisms: [.xoauth2, .oauthbearer]))
        XCTAssertEqual(
            frontEnd.receive("a AUTHENTICATE XOAUTH2 \(SASL.base64Encode(bytes("auth=Bearer x")))\r\n"),
            [send("a NO [AUTHENTICATIONFAILED] Malformed XOAUTH2 response.\r\n")])
        XCTAssertEqual(
            frontEnd.receive(
                "b AUTHENTICATE OAUTHBEARER \(SASL.base64Encode(bytes("n,,\u{1}auth=Bearer x\u{1}\u{1}")))\r\n"),
            [send("b NO [AUTHENTICATIONFAILED] OAUTHBEARER needs the user (a=) to choose a server.\r\n")])
        XCTAssertEqual(frontEnd.receive("c AUTHENTICATE XOAUTH2 !!!!\r\n"), [send("c BAD Invalid base64.\r\n")])
    }

    // MARK: Back end

    func testBackendGetsTheSameMechanismAndResponse() {
        var login = IMAPBackEndLogin(
            credentials: Credentials(
                user: "alice", passThrough: SASLPassThrough(mechanism: .xoauth2, response: xoauth2Response)),
            options: BackEndOptions(useStartTLS: false))
        XCTAssertEqual(
            login.receive(bytes("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=XOAUTH2] ready\r\n")),
            [backSend("P1 AUTHENTICATE XOAUTH2 \(SASL.base64Encode(xoauth2Response))\r\n")])
        XCTAssertEqual(login.receive(bytes("+ eyJzdGF0dXMiOiI0MDEifQ==\r\n")), [backSend("\r\n")])
        XCTAssertEqual(
            login.receive(bytes("P1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n")),
            [.failed(.rejected(text: "NO [AUTHENTICATIONFAILED] Authentication failed."))])
    }

    func testBackendWithoutSASLIRAndWithoutTheMechanism() {
        let credentials = Credentials(
            user: "bob", passThrough: SASLPassThrough(mechanism: .oauthbearer, response: bearerResponse))
        var login = IMAPBackEndLogin(credentials: credentials, options: BackEndOptions(useStartTLS: false))
        XCTAssertEqual(
            login.receive(bytes("* OK [CAPABILITY IMAP4rev1 AUTH=OAUTHBEARER] ready\r\n")),
            [backSend("P1 AUTHENTICATE OAUTHBEARER\r\n")])
        XCTAssertEqual(login.receive(bytes("+ \r\n")), [backSend("\(SASL.base64Encode(bearerResponse))\r\n")])
        XCTAssertEqual(login.receive(bytes("+ e30=\r\n")), [backSend("AQ==\r\n")])
        XCTAssertEqual(login.receive(bytes("P1 NO no\r\n")), [.failed(.rejected(text: "NO no"))])
        var missing = IMAPBackEndLogin(credentials: credentials, options: BackEndOptions(useStartTLS: false))
        XCTAssertEqual(
            missing.receive(bytes("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] ready\r\n")),
            [.failed(.unavailable(reason: "The mailbox server does not offer OAUTHBEARER."))])
    }

    func testBackendUsesSASLLoginWhenLoginIsDisabledAndPlainMissing() {
        var login = IMAPBackEndLogin(
            credentials: Credentials(user: "alice", password: "pw"), options: BackEndOptions(useStartTLS: false))
        XCTAssertEqual(
            login.receive(bytes("* OK [CAPABILITY IMAP4rev1 SASL-IR LOGINDISABLED AUTH=LOGIN] ready\r\n")),
            [backSend("P1 AUTHENTICATE LOGIN\r\n")])
        XCTAssertEqual(login.receive(bytes("+ VXNlcm5hbWU6\r\n")), [backSend("YWxpY2U=\r\n")])
        XCTAssertEqual(login.receive(bytes("+ UGFzc3dvcmQ6\r\n")), [backSend("cHc=\r\n")])
        XCTAssertEqual(login.receive(bytes("P1 OK in\r\n")), [.succeeded(text: "OK in", leftover: [])])
    }
}
