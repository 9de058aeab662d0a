import XCTest

@testable import PosternProtocol

/// LOGIN, AUTHENTICATE PLAIN and how the front end reports the session's login outcome.
final class IMAPFrontEndLoginTests: XCTestCase {
    /// base64("\0tim\0tanstaaftanstaaf"), the RFC 4616 example.
    private let timPlain = "AHRpbQB0YW5zdGFhZnRhbnN0YWFm"
    private let timLogin = loginAction("tim", "tanstaaftanstaaf", mechanism: .plain)

    // MARK: LOGIN

    func testLoginWithAtoms() {
        var frontEnd = makeFrontEnd()
        XCTAssertEqual(
            frontEnd.receive("a LOGIN alice s3cr3t\r\n"), [loginAction("alice", "s3cr3t", mechanism: .login)])
    }

    func testLoginWithQuotedStrings() {
        var frontEnd = makeFrontEnd()
        XCTAssertEqual(
            frontEnd.receive("a LOGIN \"al ice@example.org\" \"p\\\"w\\\\d\"\r\n"),
            [loginAction("al ice@example.org", "p\"w\\d", mechanism: .login)])
    }

    func testLoginWithSynchronizingLiterals() {
        var frontEnd = makeFrontEnd()
        XCTAssertEqual(frontEnd.receive("a LOGIN {7}\r\n"), [send("+ Ready for literal data\r\n")])
        XCTAssertEqual(frontEnd.receive("jürge"), [])
        XCTAssertEqual(frontEnd.receive("n {8}\r\n"), [send("+ Ready for literal data\r\n")])
        XCTAssertEqual(frontEnd.receive("p w\r\n{}\"\r\n"), [loginAction("jürgen", "p w\r\n{}\"", mechanism: .login)])
    }

    func testLoginWithNonSynchronizingLiteralsByteByByte() {
        var frontEnd = makeFrontEnd()
        let wire = bytes("a LOGIN {5+}\r\nalice {6+}\r\nsecret\r\n")
        XCTAssertEqual(frontEnd.receive(wire, chunkSizes: [1]), [loginAction("alice", "secret", mechanism: .login)])
    }

    func testLoginArgumentErrors() {
        var frontEnd = makeFrontEnd()
        XCTAssertEqual(
            frontEnd.receive("a LOGIN alice\r\n"), [send("a BAD LOGIN expects a user name and a password.\r\n")])
        XCTAssertEqual(
            frontEnd.receive("b LOGIN (alice) pw\r\n"), [send("b BAD LOGIN expects a user name and a password.\r\n")])
        XCTAssertEqual(
            frontEnd.receive(bytes("c LOGIN {2+}\r\n") + [0xC3, 0x28] + bytes(" pw\r\n")),
            [send("c BAD LOGIN arguments must be UTF-8.\r\n")])
        XCTAssertEqual(frontEnd.receive("d LOGIN \"\" pw\r\n"), [send("d BAD LOGIN user name is empty.\r\n")])
        XCTAssertEqual(
            frontEnd.receive("e LOGIN alice secret\r\n"), [loginAction("alice", "secret", mechanism: .login)])
    }

    func testLoginBeforeTLSOnARequiredListenerIsRefused() {
        var frontEnd = makeFrontEnd(frontEndOptions(tlsRequiredForLogin: true))
        XCTAssertEqual(
            frontEnd.receive("a LOGIN alice secret\r\n"),
            [send("a NO [PRIVACYREQUIRED] Plaintext login is disabled; use STARTTLS first.\r\n")])
        XCTAssertEqual(
            frontEnd.receive("b AUTHENTICATE PLAIN \(timPlain)\r\n"),
            [send("b NO [PRIVACYREQUIRED] Authentication is disabled; use STARTTLS first.\r\n")])
        XCTAssertEqual(frontEnd.receive("c NOOP\r\n"), [send("c OK NOOP completed.\r\n")], "the session goes on")
    }

    // MARK: AUTHENTICATE PLAIN

    func testAuthenticatePlainWithInitialResponse() {
        var frontEnd = makeFrontEnd()
        XCTAssertEqual(frontEnd.receive("a AUTHENTICATE PLAIN \(timPlain)\r\n"), [timLogin])
        var lower = makeFrontEnd()
        XCTAssertEqual(lower.receive("a authenticate plain \(timPlain)\r\n"), [timLogin])
    }

    func testAuthenticatePlainWithAuthzid() {
        var frontEnd = makeFrontEnd()
        let message = SASL.base64Encode(bytes("Ursel\u{0}Kurt\u{0}xipj3plmq"))
        XCTAssertEqual(
            frontEnd.receive("a AUTHENTICATE PLAIN \(message)\r\n"),
            [loginAction("Kurt", "xipj3plmq", authzid: "Ursel", mechanism: .plain)])
    }

    func testAuthenticatePlainWithEmptyInitialResponse() {
        // "=" is a zero-length initial response (RFC 4959), which is not a valid PLAIN message.
        var frontEnd = makeFrontEnd()
        XCTAssertEqual(
            frontEnd.receive("a AUTHENTICATE PLAIN =\r\n"),
            [send("a NO [AUTHENTICATIONFAILED] Malformed PLAIN response.\r\n")])
        XCTAssertEqual(frontEnd.receive("b AUTHENTICATE PLAIN \(timPlain)\r\n"), [timLogin])
    }

    func testAuthenticatePlainWithContinuation() {
        var frontEnd = makeFrontEnd()
        XCTAssertEqual(frontEnd.receive("a AUTHENTICATE PLAIN\r\n"), [send("+ \r\n")])
        XCTAssertEqual(frontEnd.receive("AHRpbQB0YW5z"), [])
        XCTAssertEqual(frontEnd.receive("dGFhZnRhbnN0YWFm\r\n"), [timLogin])
    }

    func testAuthenticateContinuationByteByByteWithPipelinedCommand() {
        var frontEnd = makeFrontEnd()
        let wire = bytes("a AUTHENTICATE PLAIN\r\n\(timPlain)\r\nb NOOP\r\n")
        XCTAssertEqual(frontEnd.receive(wire, chunkSizes: [1]), [send("+ \r\n"), timLogin])
        XCTAssertEqual(
            frontEnd.loginFinished(.success(text: "OK Logged in")),
            [send("a OK Logged in\r\n"), .relay(pipelined: bytes("b NOOP\r\n"))])
    }

    func testAuthenticateContinuationAcceptsLFOnly() {
        var frontEnd = makeFrontEnd()
        XCTAssertEqual(frontEnd.receive("a AUTHENTICATE PLAIN\n\(timPlain)\n"), [send("+ \r\n"), timLogin])
    }

    func testStarCancelsAuthenticate() {
        var frontEnd = makeFrontEnd()
        XCTAssertEqual(frontEnd.receive("a AUTHENTICATE PLAIN\r\n"), [send("+ \r\n")])
        XCTAssertEqual(
            frontEnd.receive("*\r\nb NOOP\r\n"),
            [send("a BAD AUTHENTICATE cancelled.\r\nb OK NOOP completed.\r\n")])
    }

    func testInvalidBase64IsBad() {
        var frontEnd = makeFrontEnd()
        XCTAssertEqual(frontEnd.receive("a AUTHENTICATE PLAIN AHRpbQ\r\n"), [send("a BAD Invalid base64.\r\n")])
        XCTAssertEqual(frontEnd.receive("b AUTHENTICATE PLAIN\r\n"), [send("+ \r\n")])
        XCTAssertEqual(frontEnd.receive("AHRp bQB0\r\n"), [send("b BAD Invalid base64.\r\n")])
        XCTAssertEqual(frontEnd.receive("c NOOP\r\n"), [send("c OK NOOP completed.\r\n")])
    }

    func testMalformedPlainMessagesFail() {
        var frontEnd = makeFrontEnd()
        let noSeparator = SASL.base64Encode(bytes("timtanstaaf"))
        XCTAssertEqual(
            frontEnd.receive("a AUTHENTICATE PLAIN \(noSeparator)\r\n"),
            [send("a NO [AUTHENTICATIONFAILED] Malformed PLAIN response.\r\n")])
        XCTAssertEqual(frontEnd.receive("b AUTHENTICATE PLAIN\r\n"), [send("+ \r\n")])
        XCTAssertEqual(frontEnd.receive("\r\n"), [send("b NO [AUTHENTICATIONFAILED] Malformed PLAIN response.\r\n")])
    }

    func testUnknownMechanismIsNo() {
        var frontEnd = makeFrontEnd()
        XCTAssertEqual(
            frontEnd.receive("a AUTHENTICATE CRAM-MD5\r\n"), [send("a NO Unsupported authentication mechanism.\r\n")])
        XCTAssertEqual(
            frontEnd.receive("b AUTHENTICATE GSSAPI YIIB\r\n"), [send("b NO Unsupported authentication mechanism.\r\n")]
        )
        XCTAssertEqual(frontEnd.receive("c AUTHENTICATE\r\n"), [send("c BAD AUTHENTICATE expects a mechanism.\r\n")])
    }

    func testOverlongSASLResponseIsBadAndDiscardedToItsLineEnd() {
        var frontEnd = makeFrontEnd(frontEndOptions(maxLine: 64))
        XCTAssertEqual(frontEnd.receive("a AUTHENTICATE PLAIN\r\n"), [send("+ \r\n")])
        XCTAssertEqual(
            frontEnd.receive(String(repeating: "A", count: 100)), [send("a BAD AUTHENTICATE response too long.\r\n")])
        XCTAssertEqual(
            frontEnd.receive(String(repeating: "A", count: 20) + "\r\nb NOOP\r\n"), [send("b OK NOOP completed.\r\n")])
    }

    // MARK: Login outcomes

    func testSuccessRelaysTheCommandsPipelinedAfterLogin() {
        var frontEnd = makeFrontEnd()
        let noops = (1...50).map { "n\($0) NOOP\r\n" }.joined()
        XCTAssertEqual(
            frontEnd.receive("a7 LOGIN alice secret\r\n" + noops), [loginAction("alice", "secret", mechanism: .login)])
        XCTAssertEqual(frontEnd.receive("n51 SELECT {5+}\r\nINBOX\r\n"), [], "bytes during the login are held")
        XCTAssertEqual(
            frontEnd.loginFinished(.success(text: "OK [CAPABILITY IMAP4rev1 IDLE] Logged in")),
            [
                send("a7 OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n"),
                .relay(pipelined: bytes(noops + "n51 SELECT {5+}\r\nINBOX\r\n")),
            ])
        XCTAssertEqual(frontEnd.receive("x NOOP\r\n"), [], "relaying: the session forwards raw bytes")
        XCTAssertEqual(frontEnd.loginFinished(.success(text: "OK")), [])
    }

    func testSuccessWithNothingPipelined() {
        var frontEnd = makeFrontEnd()
        XCTAssertEqual(frontEnd.receive("a AUTHENTICATE PLAIN \(timPlain)\r\n"), [timLogin])
        XCTAssertEqual(
            frontEnd.loginFinished(.success(text: "OK Logged in")), [send("a OK Logged in\r\n"), .relay(pipelined: [])])
    }

    func testRejectionAllowsARetryAndRunsPipelinedCommands() {
        var frontEnd = makeFrontEnd()
        XCTAssertEqual(
            frontEnd.receive("a LOGIN alice wrong\r\nb NOOP\r\n"), [loginAction("alice", "wrong", mechanism: .login)])
        XCTAssertEqual(
            frontEnd.loginFinished(.rejected(text: "NO [AUTHENTICATIONFAILED] x")),
            [send("a NO [AUTHENTICATIONFAILED] x\r\nb OK NOOP completed.\r\n")])
        XCTAssertEqual(frontEnd.receive("c LOGIN alice right\r\n"), [loginAction("alice", "right", mechanism: .login)])
    }

    func testTooManyFailedLoginsSayByeAndClose() {
        var frontEnd = makeFrontEnd(frontEndOptions(maxLoginAttempts: 3))
        for tag in ["a", "b"] {
            XCTAssertEqual(
                frontEnd.receive("\(tag) LOGIN alice wrong\r\n"), [loginAction("alice", "wrong", mechanism: .login)])
            XCTAssertEqual(
                frontEnd.loginFinished(.rejected(text: "NO [AUTHENTICATIONFAILED] x")),
                [send("\(tag) NO [AUTHENTICATIONFAILED] x\r\n")])
        }
        XCTAssertEqual(frontEnd.receive("c AUTHENTICATE PLAIN \(timPlain)\r\nd NOOP\r\n"), [timLogin])
        XCTAssertEqual(
            frontEnd.loginFinished(.rejected(text: "NO [AUTHENTICATIONFAILED] x")),
            [send("c NO [AUTHENTICATIONFAILED] x\r\n* BYE Too many failed logins.\r\n"), .close])
        XCTAssertEqual(frontEnd.receive("e NOOP\r\n"), [], "nothing after close")
    }

    func testUnavailableAndUnknownUser() {
        var frontEnd = makeFrontEnd()
        XCTAssertEqual(
            frontEnd.receive("a LOGIN alice secret\r\n"), [loginAction("alice", "secret", mechanism: .login)])
        XCTAssertEqual(
            frontEnd.loginFinished(.unavailable(reason: "Backend unreachable.")),
            [send("a NO [UNAVAILABLE] Backend unreachable.\r\n")])
        XCTAssertEqual(frontEnd.receive("b LOGIN bob secret\r\n"), [loginAction("bob", "secret", mechanism: .login)])
        XCTAssertEqual(
            frontEnd.loginFinished(.unknownUser), [send("b NO [AUTHENTICATIONFAILED] Authentication failed.\r\n")])
    }

    func testLoginFinishedWithoutAPendingLoginDoesNothing() {
        var frontEnd = makeFrontEnd()
        XCTAssertEqual(frontEnd.loginFinished(.success(text: "OK")), [])
        XCTAssertEqual(frontEnd.loginFinished(.rejected(text: "NO")), [])
        XCTAssertEqual(frontEnd.receive("a NOOP\r\n"), [send("a OK NOOP completed.\r\n")])
    }
}
