import XCTest

@testable import PosternProtocol

/// Logging in to an IMAP backend on the client's behalf.
final class IMAPBackEndLoginTests: XCTestCase {
    private let alice = Credentials(user: "alice", password: "secret")
    /// base64("\0alice\0secret")
    private let alicePlain = "AGFsaWNlAHNlY3JldA=="

    private func machine(startTLS: Bool = false, maxLine: Int = 65536) -> IMAPBackEndLogin {
        IMAPBackEndLogin(credentials: alice, useStartTLS: startTLS, maxLine: maxLine)
    }

    // MARK: Choosing the login method

    func testGreetingCapabilitiesWithSASLIRSendAuthenticateWithInitialResponse() {
        var login = machine()
        XCTAssertEqual(
            login.receive(bytes("* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS AUTH=PLAIN] Dovecot ready.\r\n")),
            [backSend("P1 AUTHENTICATE PLAIN \(alicePlain)\r\n")])
        XCTAssertEqual(
            login.receive(bytes("P1 OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n")),
            [.succeeded(text: "OK [CAPABILITY IMAP4rev1 IDLE] Logged in", leftover: [])])
    }

    func testAuthzidIsSentInThePlainMessage() {
        var login = IMAPBackEndLogin(
            credentials: Credentials(user: "Kurt", password: "xipj3plmq", authzid: "Ursel"), useStartTLS: false)
        XCTAssertEqual(
            login.receive(bytes("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] ready\r\n")),
            [backSend("P1 AUTHENTICATE PLAIN VXJzZWwAS3VydAB4aXBqM3BsbXE=\r\n")])
    }

    func testGreetingWithoutCapabilitiesAsksForThem() {
        var login = machine()
        XCTAssertEqual(login.receive(bytes("* OK Server ready\r\n")), [backSend("P1 CAPABILITY\r\n")])
        XCTAssertEqual(
            login.receive(bytes("* CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN\r\n")), [], "waits for the tagged OK")
        XCTAssertEqual(
            login.receive(bytes("P1 OK Capability completed.\r\n")),
            [backSend("P2 AUTHENTICATE PLAIN \(alicePlain)\r\n")])
        XCTAssertEqual(login.receive(bytes("P2 OK Logged in\r\n")), [.succeeded(text: "OK Logged in", leftover: [])])
    }

    func testAuthPlainWithoutSASLIRWaitsForTheContinuation() {
        var login = machine()
        XCTAssertEqual(
            login.receive(bytes("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n")),
            [backSend("P1 AUTHENTICATE PLAIN\r\n")])
        XCTAssertEqual(login.receive(bytes("+ \r\n")), [backSend("\(alicePlain)\r\n")])
        XCTAssertEqual(login.receive(bytes("P1 OK done\r\n")), [.succeeded(text: "OK done", leftover: [])])
    }

    func testASecondContinuationFails() {
        var login = machine()
        _ = login.receive(bytes("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n"))
        XCTAssertEqual(login.receive(bytes("+\r\n")), [backSend("\(alicePlain)\r\n")])
        XCTAssertEqual(
            login.receive(bytes("+ more?\r\n")), [.failed(.unavailable(reason: "Backend asked for more SASL data."))])
    }

    func testLoginWithNonSynchronizingLiterals() {
        for plus in ["LITERAL+", "LITERAL-"] {
            var login = machine()
            XCTAssertEqual(
                login.receive(bytes("* OK [CAPABILITY IMAP4rev1 \(plus)] ready\r\n")),
                [backSend("P1 LOGIN {5+}\r\nalice {6+}\r\nsecret\r\n")], plus)
            XCTAssertEqual(
                login.receive(bytes("P1 OK Logged in\r\n")), [.succeeded(text: "OK Logged in", leftover: [])])
        }
    }

    func testLoginWithSynchronizingLiteralsSendsOnePerContinuation() {
        var login = IMAPBackEndLogin(credentials: Credentials(user: "jürgen", password: "p w"), useStartTLS: false)
        XCTAssertEqual(login.receive(bytes("* OK [CAPABILITY IMAP4rev1] ready\r\n")), [backSend("P1 LOGIN {7}\r\n")])
        XCTAssertEqual(login.receive(bytes("+ Ready\r\n")), [backSend("jürgen {3}\r\n")])
        XCTAssertEqual(login.receive(bytes("+ Ready\r\n")), [backSend("p w\r\n")])
        XCTAssertEqual(
            login.receive(bytes("+ Ready\r\n")),
            [.failed(.unavailable(reason: "Backend sent an unexpected continuation."))])
    }

    func testLoginDisabledWithoutAuthPlainFails() {
        var login = machine()
        XCTAssertEqual(
            login.receive(bytes("* OK [CAPABILITY IMAP4rev1 LOGINDISABLED] ready\r\n")),
            [.failed(.unavailable(reason: "The mailbox server offers no login method Postern can use."))])
    }

    func testAuthzidWithoutAuthPlainFails() {
        var login = IMAPBackEndLogin(
            credentials: Credentials(user: "Kurt", password: "x", authzid: "Ursel"), useStartTLS: false)
        XCTAssertEqual(
            login.receive(bytes("* OK [CAPABILITY IMAP4rev1 LITERAL+] ready\r\n")),
            [.failed(.unavailable(reason: "The mailbox server does not offer PLAIN for an authorization identity."))])
    }

    // MARK: Outcomes

    func testTaggedNoIsARejection() {
        var login = machine()
        _ = login.receive(bytes("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] ready\r\n"))
        XCTAssertEqual(
            login.receive(
                bytes("* BAD noise\r\nP0 OK not ours\r\nP1 NO [AUTHENTICATIONFAILED] Invalid credentials\r\n")),
            [.failed(.rejected(text: "NO [AUTHENTICATIONFAILED] Invalid credentials"))])
        XCTAssertEqual(login.receive(bytes("P1 OK late\r\n")), [], "done")
    }

    func testTaggedBadIsReportedAsNo() {
        var login = machine()
        _ = login.receive(bytes("* OK [CAPABILITY IMAP4rev1 LITERAL+] ready\r\n"))
        XCTAssertEqual(
            login.receive(bytes("P1 BAD Invalid arguments\r\n")), [.failed(.rejected(text: "NO Invalid arguments"))])
    }

    func testSuccessHandsOverWhatFollowsTheTaggedOK() {
        var login = machine()
        _ = login.receive(bytes("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] ready\r\n"))
        XCTAssertEqual(
            login.receive(bytes("* CAPABILITY IMAP4rev1 IDLE\r\nP1 OK Logged in\r\n* 3 EXISTS\r\n* 0 REC")),
            [.succeeded(text: "OK Logged in", leftover: bytes("* 3 EXISTS\r\n* 0 REC"))])
    }

    func testRefusedGreetings() {
        var bye = machine()
        XCTAssertEqual(
            bye.receive(bytes("* BYE Too many connections\r\n")),
            [.failed(.unavailable(reason: "Backend refused the connection."))])
        var preauth = machine()
        XCTAssertEqual(
            preauth.receive(bytes("* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")),
            [.failed(.unavailable(reason: "Backend greeted with PREAUTH."))])
        var garbage = machine()
        XCTAssertEqual(
            garbage.receive(bytes("+OK POP3 ready\r\n")),
            [.failed(.unavailable(reason: "Backend sent an unexpected greeting."))])
        var lower = machine()
        XCTAssertEqual(lower.receive(bytes("* ok ready\r\n")), [backSend("P1 CAPABILITY\r\n")], "case-insensitive")
    }

    func testCapabilityRefused() {
        var login = machine()
        _ = login.receive(bytes("* OK ready\r\n"))
        XCTAssertEqual(
            login.receive(bytes("P1 BAD no\r\n")), [.failed(.unavailable(reason: "Backend refused CAPABILITY."))])
    }

    func testOverlongLineFailsWhateverTheChunking() {
        let greeting = bytes("* OK " + String(repeating: "x", count: 100) + "\r\n")
        for sizes in [[greeting.count], [10], [1]] {
            var login = machine(maxLine: 64)
            XCTAssertEqual(
                chunked(greeting, sizes: sizes).flatMap { login.receive($0) },
                [.failed(.unavailable(reason: "Backend sent an overlong line."))], "\(sizes)")
        }
    }

    // MARK: STARTTLS

    func testStartTLSThenCapabilityAgain() {
        var login = machine(startTLS: true)
        XCTAssertEqual(
            login.receive(bytes("* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\n")),
            [backSend("P1 STARTTLS\r\n")])
        XCTAssertEqual(
            login.receive(
                bytes("P1 OK Begin TLS negotiation now\r\n* CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR\r\nP2 OK x\r\n")),
            [.startTLS], "what follows the OK is dropped")
        XCTAssertEqual(login.receive(bytes("P1 OK again\r\n")), [], "nothing is read before the handshake")
        XCTAssertEqual(login.tlsEstablished(), [backSend("P2 CAPABILITY\r\n")])
        XCTAssertEqual(login.tlsEstablished(), [], "only once")
        XCTAssertEqual(
            login.receive(bytes("* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\nP2 OK done\r\n")),
            [backSend("P3 AUTHENTICATE PLAIN\r\n")])
        XCTAssertEqual(login.receive(bytes("+ \r\n")), [backSend("\(alicePlain)\r\n")])
        XCTAssertEqual(login.receive(bytes("P3 OK in\r\n")), [.succeeded(text: "OK in", leftover: [])])
    }

    func testCapabilitiesFromBeforeTLSAreForgotten() {
        // RFC 9051 §6.2.1: plaintext capabilities may have been forged and must not be used after TLS.
        var login = machine(startTLS: true)
        XCTAssertEqual(
            login.receive(bytes("* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN SASL-IR] ready\r\n")),
            [backSend("P1 STARTTLS\r\n")])
        XCTAssertEqual(login.receive(bytes("P1 OK go\r\n")), [.startTLS])
        XCTAssertEqual(login.tlsEstablished(), [backSend("P2 CAPABILITY\r\n")])
        XCTAssertEqual(login.receive(bytes("P2 OK no untagged list\r\n")), [backSend("P3 LOGIN {5}\r\n")])
    }

    func testStartTLSNotOfferedFailsClosed() {
        var login = machine(startTLS: true)
        XCTAssertEqual(
            login.receive(bytes("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR] ready\r\n")),
            [.failed(.unavailable(reason: "Backend does not offer STARTTLS; refusing to log in without TLS."))])
        var asked = machine(startTLS: true)
        XCTAssertEqual(asked.receive(bytes("* OK ready\r\n")), [backSend("P1 CAPABILITY\r\n")])
        XCTAssertEqual(
            asked.receive(bytes("* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\nP1 OK\r\n")),
            [.failed(.unavailable(reason: "Backend does not offer STARTTLS; refusing to log in without TLS."))])
    }

    func testPlaintextFallbackLogsInWithANotice() {
        var login = IMAPBackEndLogin(
            credentials: alice, options: BackEndOptions(useStartTLS: true, allowPlaintextFallback: true))
        XCTAssertEqual(
            login.receive(bytes("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR] ready\r\n")),
            [
                .notice("Backend does not offer STARTTLS; logging in WITHOUT TLS (allow_plaintext_fallback)."),
                backSend("P1 AUTHENTICATE PLAIN \(alicePlain)\r\n"),
            ])
        var offered = IMAPBackEndLogin(
            credentials: alice, options: BackEndOptions(useStartTLS: true, allowPlaintextFallback: true))
        XCTAssertEqual(
            offered.receive(bytes("* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] ready\r\n")),
            [backSend("P1 STARTTLS\r\n")], "the fallback is never used when STARTTLS is offered")
    }

    func testStartTLSRefused() {
        var login = machine(startTLS: true)
        _ = login.receive(bytes("* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n"))
        XCTAssertEqual(
            login.receive(bytes("P1 NO not now\r\n")), [.failed(.unavailable(reason: "Backend refused STARTTLS."))])
    }

    // MARK: Chunking

    /// Feeds the backend's side of a dialogue, one phase (plaintext, then after TLS) at a time, each phase
    /// in the given chunks; calls `tlsEstablished` when the machine asks for TLS; returns every action.
    private func run(_ phases: [String], sizes: [Int]) -> [BackEndAction] {
        var login = machine(startTLS: phases.count > 1)
        var actions: [BackEndAction] = []
        for phase in phases {
            for chunk in chunked(bytes(phase), sizes: sizes) {
                let step = login.receive(chunk)
                actions += step
                if step.last == .startTLS { actions += login.tlsEstablished() }
            }
        }
        return actions
    }

    func testArbitraryChunkBoundariesGiveIdenticalActions() {
        let dialogues: [[String]] = [
            ["* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] hi\r\nP1 OK [CAPABILITY IMAP4rev1] in\r\n"],
            [
                "* OK hi\r\n* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\nP1 OK\r\n+ \r\n* ignored\r\nP2 NO [AUTHENTICATIONFAILED] x\r\n"
            ],
            ["* OK [CAPABILITY IMAP4rev1] hi\r\n+ a\r\n+ b\r\nP1 OK done\r\n"],
            ["* OK [CAPABILITY IMAP4rev1 LITERAL+] hi\nP1 OK done\n"],
            [
                "* OK [CAPABILITY STARTTLS] hi\r\nP1 OK\r\n",
                "* CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN\r\nP2 OK\r\nP3 OK in\r\n",
            ],
        ]
        var generator = SplitMix64(seed: 7888)
        for phases in dialogues {
            // Reference: one line per chunk, as a well-behaved server would send them.
            var login = machine(startTLS: phases.count > 1)
            var reference: [BackEndAction] = []
            for line in phases.flatMap({ bytes($0).split(separator: 10).map { Array($0) + [10] } }) {
                let step = login.receive(line)
                reference += step
                if step.last == .startTLS { reference += login.tlsEstablished() }
            }
            switch reference.last {
            case .succeeded?, .failed(.rejected)?: break
            default: XCTFail("the dialogue should end in a login outcome: \(reference)")
            }
            XCTAssertEqual(run(phases, sizes: [Int.max]), reference, "whole")
            XCTAssertEqual(run(phases, sizes: [1]), reference, "byte by byte")
            for _ in 0..<200 {
                let sizes = (0..<8).map { _ in Int.random(in: 1...12, using: &generator) }
                XCTAssertEqual(run(phases, sizes: sizes), reference, "\(sizes) for \(phases)")
            }
        }
    }
}
