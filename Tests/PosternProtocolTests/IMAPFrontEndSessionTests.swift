import XCTest

@testable import PosternProtocol

/// The IMAP front end outside login: greeting, CAPABILITY, NOOP, LOGOUT, ID and STARTTLS.
final class IMAPFrontEndSessionTests: XCTestCase {
    // MARK: Greeting and capabilities

    func testGreetingOnAStartTLSListener() {
        var frontEnd = IMAPFrontEnd(options: frontEndOptions())
        XCTAssertEqual(
            text(frontEnd.greeting()),
            "* OK [CAPABILITY IMAP4rev1 SASL-IR LITERAL+ ID STARTTLS AUTH=PLAIN AUTH=LOGIN] Postern ready.\r\n")
    }

    func testGreetingWhenTLSIsAlreadyActive() {
        var frontEnd = IMAPFrontEnd(options: frontEndOptions(starttlsOffered: true, tlsActive: true))
        XCTAssertEqual(
            text(frontEnd.greeting()),
            "* OK [CAPABILITY IMAP4rev1 SASL-IR LITERAL+ ID AUTH=PLAIN AUTH=LOGIN] Postern ready.\r\n")
    }

    func testGreetingOnAStartTLSRequiredListenerDisablesLogin() {
        var frontEnd = IMAPFrontEnd(options: frontEndOptions(tlsRequiredForLogin: true))
        let greeting = text(frontEnd.greeting())
        XCTAssertEqual(
            greeting, "* OK [CAPABILITY IMAP4rev1 SASL-IR LITERAL+ ID STARTTLS LOGINDISABLED] Postern ready.\r\n")
        XCTAssertFalse(greeting.contains("AUTH=PLAIN"))
    }

    func testGreetingWithImplicitTLSOffersNoStartTLS() {
        var frontEnd = IMAPFrontEnd(
            options: frontEndOptions(starttlsOffered: false, tlsActive: true, tlsRequiredForLogin: true))
        XCTAssertEqual(
            text(frontEnd.greeting()),
            "* OK [CAPABILITY IMAP4rev1 SASL-IR LITERAL+ ID AUTH=PLAIN AUTH=LOGIN] Postern ready.\r\n")
    }

    func testGreetingOnAPlaintextListener() {
        var frontEnd = IMAPFrontEnd(options: frontEndOptions(starttlsOffered: false))
        XCTAssertEqual(
            text(frontEnd.greeting()),
            "* OK [CAPABILITY IMAP4rev1 SASL-IR LITERAL+ ID AUTH=PLAIN AUTH=LOGIN] Postern ready.\r\n")
    }

    func testCapabilityCommand() {
        var frontEnd = makeFrontEnd()
        XCTAssertEqual(
            frontEnd.receive("a1 CAPABILITY\r\n"),
            [
                send(
                    "* CAPABILITY IMAP4rev1 SASL-IR LITERAL+ ID STARTTLS AUTH=PLAIN AUTH=LOGIN\r\na1 OK CAPABILITY completed.\r\n"
                )
            ])
        XCTAssertEqual(
            frontEnd.receive("a2 CAPABILITY x\r\n"), [send("a2 BAD CAPABILITY takes no arguments.\r\n")])
    }

    // MARK: NOOP, LOGOUT, ENABLE, unknown

    func testNoop() {
        var frontEnd = makeFrontEnd()
        XCTAssertEqual(frontEnd.receive("a NOOP\r\n"), [send("a OK NOOP completed.\r\n")])
        XCTAssertEqual(frontEnd.receive("b noop x\r\n"), [send("b BAD NOOP takes no arguments.\r\n")])
    }

    func testLogoutSaysByeAndCloses() {
        var frontEnd = makeFrontEnd()
        XCTAssertEqual(
            frontEnd.receive("a LOGOUT\r\nb NOOP\r\n"),
            [send("* BYE Logging out.\r\na OK LOGOUT completed.\r\n"), .close])
        XCTAssertEqual(frontEnd.receive("c NOOP\r\n"), [], "nothing after close")
        XCTAssertEqual(frontEnd.tlsEstablished(), [])
        XCTAssertEqual(frontEnd.loginFinished(.success(text: "OK")), [])
    }

    func testUnknownCommandIsBad() {
        var frontEnd = makeFrontEnd()
        XCTAssertEqual(
            frontEnd.receive("a SELECT INBOX\r\n"), [send("a BAD Unknown command or not valid before login.\r\n")])
        XCTAssertEqual(
            frontEnd.receive("b ENABLE UTF8=ACCEPT\r\n"), [send("b BAD ENABLE is only valid after login.\r\n")])
        XCTAssertEqual(frontEnd.receive("+c NOOP\r\n"), [send("* BAD Invalid tag.\r\n")])
    }

    func testTimeoutAndShutdownMessages() {
        let frontEnd = makeFrontEnd()
        XCTAssertEqual(text(frontEnd.timeoutMessage()), "* BYE Login timeout.\r\n")
        XCTAssertEqual(text(frontEnd.shutdownMessage()), "* BYE Server shutting down.\r\n")
    }

    // MARK: ID

    func testIDStoresThePairsAndAnswersNil() {
        var frontEnd = makeFrontEnd()
        XCTAssertEqual(
            frontEnd.receive("a ID (\"name\" \"Thunderbird\" \"version\" NIL \"os\" {5+}\r\nLinux)\r\n"),
            [send("* ID NIL\r\na OK ID completed.\r\n")])
        XCTAssertEqual(frontEnd.clientID.map(\.0), ["name", "version", "os"])
        XCTAssertEqual(frontEnd.clientID.map(\.1), ["Thunderbird", nil, "Linux"])
        XCTAssertEqual(frontEnd.receive("b ID NIL\r\n"), [send("* ID NIL\r\nb OK ID completed.\r\n")])
        XCTAssertTrue(frontEnd.clientID.isEmpty)
    }

    func testIDWithASynchronizingLiteral() {
        var frontEnd = makeFrontEnd()
        XCTAssertEqual(frontEnd.receive("a ID (\"name\" {4}\r\n"), [send("+ Ready for literal data\r\n")])
        XCTAssertEqual(frontEnd.receive("mutt)\r\n"), [send("* ID NIL\r\na OK ID completed.\r\n")])
        XCTAssertEqual(frontEnd.clientID.map(\.1), ["mutt"])
    }

    func testMalformedIDIsBad() {
        var frontEnd = makeFrontEnd()
        XCTAssertEqual(frontEnd.receive("a ID (\"name\")\r\n"), [send("a BAD ID expects field-value pairs.\r\n")])
        XCTAssertEqual(frontEnd.receive("b ID (name \"x\")\r\n"), [send("b BAD ID field names are strings.\r\n")])
        XCTAssertEqual(frontEnd.receive("c ID (\"name\" x)\r\n"), [send("c BAD ID values are strings or NIL.\r\n")])
        XCTAssertEqual(frontEnd.receive("d ID foo\r\n"), [send("d BAD ID expects a list or NIL.\r\n")])
        XCTAssertEqual(frontEnd.receive("e ID\r\n"), [send("e BAD ID expects one argument.\r\n")])
    }

    // MARK: STARTTLS

    func testStartTLSDiscardsPipelinedBytes() {
        var frontEnd = makeFrontEnd()
        XCTAssertEqual(
            frontEnd.receive("a STARTTLS\r\nb LOGIN alice secret\r\nc NOOP\r\n"),
            [send("a OK Begin TLS negotiation now.\r\n"), .startTLS])
        XCTAssertEqual(frontEnd.tlsEstablished(), [], "the plaintext LOGIN and NOOP are never interpreted")
        XCTAssertEqual(
            frontEnd.receive("d CAPABILITY\r\n"),
            [send("* CAPABILITY IMAP4rev1 SASL-IR LITERAL+ ID AUTH=PLAIN AUTH=LOGIN\r\nd OK CAPABILITY completed.\r\n")]
        )
    }

    func testAnIDGivenBeforeStartTLSIsForgottenAfterIt() {
        var frontEnd = makeFrontEnd()
        XCTAssertEqual(
            frontEnd.receive("a ID (\"name\" \"forged\")\r\n"), [send("* ID NIL\r\na OK ID completed.\r\n")])
        XCTAssertEqual(frontEnd.clientID.map(\.1), ["forged"])
        XCTAssertEqual(frontEnd.receive("b STARTTLS\r\n"), [send("b OK Begin TLS negotiation now.\r\n"), .startTLS])
        XCTAssertEqual(frontEnd.tlsEstablished(), [])
        XCTAssertTrue(frontEnd.clientID.isEmpty, "the plaintext ID's fields are not passed on after TLS")
        XCTAssertEqual(
            frontEnd.receive("c ID (\"name\" \"real\")\r\n"), [send("* ID NIL\r\nc OK ID completed.\r\n")])
        XCTAssertEqual(frontEnd.clientID.map(\.1), ["real"])
    }

    func testNothingIsInterpretedBetweenStartTLSAndTheHandshake() {
        var frontEnd = makeFrontEnd()
        XCTAssertEqual(frontEnd.receive("a STARTTLS\r\n"), [send("a OK Begin TLS negotiation now.\r\n"), .startTLS])
        XCTAssertEqual(frontEnd.receive("b LOGIN alice secret\r\n"), [])
        XCTAssertEqual(frontEnd.tlsEstablished(), [])
        XCTAssertEqual(frontEnd.receive("c NOOP\r\n"), [send("c OK NOOP completed.\r\n")])
    }

    func testStartTLSSplitAcrossChunksWithTLSBytesAfterIt() {
        var frontEnd = makeFrontEnd()
        let wire = bytes("a STARTTLS\r\n") + [0x16, 0x03, 0x01, 0x02, 0x00]
        XCTAssertEqual(
            frontEnd.receive(wire, chunkSizes: [3, 9]), [send("a OK Begin TLS negotiation now.\r\n"), .startTLS])
    }

    func testStartTLSOnARequiredListenerEnablesLogin() {
        var frontEnd = makeFrontEnd(frontEndOptions(tlsRequiredForLogin: true))
        XCTAssertEqual(frontEnd.receive("a STARTTLS\r\n"), [send("a OK Begin TLS negotiation now.\r\n"), .startTLS])
        XCTAssertEqual(frontEnd.tlsEstablished(), [])
        XCTAssertEqual(
            frontEnd.receive("b CAPABILITY\r\n"),
            [send("* CAPABILITY IMAP4rev1 SASL-IR LITERAL+ ID AUTH=PLAIN AUTH=LOGIN\r\nb OK CAPABILITY completed.\r\n")]
        )
        XCTAssertEqual(
            frontEnd.receive("c LOGIN alice secret\r\n"), [loginAction("alice", "secret", mechanism: .login)])
    }

    func testStartTLSRefusals() {
        var active = makeFrontEnd(frontEndOptions(tlsActive: true))
        XCTAssertEqual(active.receive("a STARTTLS\r\n"), [send("a BAD TLS is already active.\r\n")])
        var unavailable = makeFrontEnd(frontEndOptions(starttlsOffered: false))
        XCTAssertEqual(unavailable.receive("a STARTTLS\r\n"), [send("a BAD STARTTLS is not available.\r\n")])
        var plain = makeFrontEnd()
        XCTAssertEqual(plain.receive("a STARTTLS now\r\n"), [send("a BAD STARTTLS takes no arguments.\r\n")])
        XCTAssertEqual(plain.receive("b STARTTLS\r\n"), [send("b OK Begin TLS negotiation now.\r\n"), .startTLS])
        XCTAssertEqual(plain.tlsEstablished(), [])
        XCTAssertEqual(plain.receive("c STARTTLS\r\n"), [send("c BAD TLS is already active.\r\n")])
    }
}
