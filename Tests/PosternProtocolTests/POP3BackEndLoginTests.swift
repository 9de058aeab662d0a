import XCTest

@testable import PosternProtocol

/// Logging in to a POP3 backend on the client's behalf.
final class POP3BackEndLoginTests: XCTestCase {
    private let alice = Credentials(user: "alice", password: "se cret")
    /// base64("\0alice\0se cret")
    private let alicePlain = "AGFsaWNlAHNlIGNyZXQ="
    private let dovecotCapa =
        "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\nSTLS\r\nUSER\r\n"

    private func machine(_ credentials: Credentials? = nil, startTLS: Bool = false, fallback: Bool = false)
        -> POP3BackEndLogin
    {
        POP3BackEndLogin(
            credentials: credentials ?? alice,
            options: BackEndOptions(useStartTLS: startTLS, allowPlaintextFallback: fallback, maxLine: 1024))
    }

    func testAuthPlainWhenOffered() {
        var login = machine()
        XCTAssertEqual(login.receive(bytes("+OK Dovecot ready.\r\n")), [backSend("CAPA\r\n")])
        XCTAssertEqual(login.receive(bytes(dovecotCapa + "SASL PLAIN LOGIN\r\n")), [], "waits for the end")
        XCTAssertEqual(login.receive(bytes(".\r\n")), [backSend("AUTH PLAIN \(alicePlain)\r\n")])
        XCTAssertEqual(
            login.receive(bytes("+OK Logged in.\r\n")), [.succeeded(text: "+OK Logged in.", leftover: [])])
    }

    func testUserPassWithoutSASL() {
        var login = machine()
        _ = login.receive(bytes("+OK ready\r\n"))
        XCTAssertEqual(login.receive(bytes("+OK\r\nUSER\r\nUIDL\r\n.\r\n")), [backSend("USER alice\r\n")])
        XCTAssertEqual(login.receive(bytes("+OK\r\n")), [backSend("PASS se cret\r\n")])
        XCTAssertEqual(
            login.receive(bytes("+OK Logged in.\r\n+OK 2 320\r\n")),
            [.succeeded(text: "+OK Logged in.", leftover: bytes("+OK 2 320\r\n"))])
    }

    func testServerWithoutCAPAGetsUserPass() {
        var login = machine()
        _ = login.receive(bytes("+OK ready\r\n"))
        XCTAssertEqual(login.receive(bytes("-ERR unknown command\r\n")), [backSend("USER alice\r\n")])
    }

    func testWrongPasswordGivesTheBackendsLine() {
        var viaPass = machine()
        _ = viaPass.receive(bytes("+OK ready\r\n+OK\r\n.\r\n+OK\r\n"))
        XCTAssertEqual(
            viaPass.receive(bytes("-ERR [AUTH] Authentication failed.\r\n")),
            [.failed(.rejected(text: "-ERR [AUTH] Authentication failed."))])
        var viaUser = machine()
        _ = viaUser.receive(bytes("+OK ready\r\n+OK\r\n.\r\n"))
        XCTAssertEqual(
            viaUser.receive(bytes("-ERR no such user\r\n")), [.failed(.rejected(text: "-ERR no such user"))])
        var viaAuth = machine()
        _ = viaAuth.receive(bytes("+OK ready\r\n+OK\r\nSASL PLAIN\r\n.\r\n"))
        XCTAssertEqual(
            viaAuth.receive(bytes("-ERR [AUTH] Authentication failed.\r\n")),
            [.failed(.rejected(text: "-ERR [AUTH] Authentication failed."))])
    }

    func testAuthzidNeedsPlain() {
        var login = machine(Credentials(user: "k", password: "p", authzid: "u"))
        _ = login.receive(bytes("+OK ready\r\n"))
        XCTAssertEqual(
            login.receive(bytes("+OK\r\nUSER\r\n.\r\n")),
            [.failed(.unavailable(reason: "The mailbox server does not offer PLAIN for an authorization identity."))])
    }

    func testLineBreakInThePasswordNeverGoesIntoPASS() {
        var login = machine(Credentials(user: "alice", password: "pw\r\nDELE 1"))
        _ = login.receive(bytes("+OK ready\r\n"))
        XCTAssertEqual(
            login.receive(bytes("+OK\r\nUSER\r\n.\r\n")),
            [.failed(.unavailable(reason: "The mailbox server offers no login method Postern can use."))])
        var withLogin = machine(Credentials(user: "alice", password: "pw\r\nDELE 1"))
        _ = withLogin.receive(bytes("+OK ready\r\n"))
        XCTAssertEqual(withLogin.receive(bytes("+OK\r\nSASL LOGIN\r\n.\r\n")), [backSend("AUTH LOGIN\r\n")])
        XCTAssertEqual(withLogin.receive(bytes("+ VXNlcm5hbWU6\r\n")), [backSend("YWxpY2U=\r\n")])
        XCTAssertEqual(
            withLogin.receive(bytes("+ UGFzc3dvcmQ6\r\n")),
            [backSend("\(SASL.base64Encode(bytes("pw\r\nDELE 1")))\r\n")])
    }

    func testTokensGoWithTheClientsMechanism() {
        let response = bytes("user=alice\u{1}auth=Bearer t0k\u{1}\u{1}")
        let bearer = Credentials(user: "alice", passThrough: SASLPassThrough(mechanism: .xoauth2, response: response))
        var login = machine(bearer)
        _ = login.receive(bytes("+OK ready\r\n"))
        XCTAssertEqual(
            login.receive(bytes("+OK\r\nSASL PLAIN XOAUTH2 OAUTHBEARER\r\n.\r\n")),
            [backSend("AUTH XOAUTH2 \(SASL.base64Encode(response))\r\n")])
        // Dovecot's error challenge gets the empty dummy response, then the failure is relayed.
        XCTAssertEqual(login.receive(bytes("+ eyJzdGF0dXMiOiI0MDEifQ==\r\n")), [backSend("\r\n")])
        XCTAssertEqual(
            login.receive(bytes("-ERR [AUTH] Authentication failed.\r\n")),
            [.failed(.rejected(text: "-ERR [AUTH] Authentication failed."))])
        var unsupported = machine(bearer)
        _ = unsupported.receive(bytes("+OK ready\r\n"))
        XCTAssertEqual(
            unsupported.receive(bytes("+OK\r\nSASL PLAIN\r\n.\r\n")),
            [.failed(.unavailable(reason: "The mailbox server does not offer XOAUTH2."))])
    }

    func testLongInitialResponseWaitsForTheContinuation() {
        // RFC 5034 §4: AUTH with its initial response must fit in 255 octets.
        let response = bytes("n,a=alice,\u{1}auth=Bearer " + String(repeating: "x", count: 400) + "\u{1}\u{1}")
        var login = machine(
            Credentials(user: "alice", passThrough: SASLPassThrough(mechanism: .oauthbearer, response: response)))
        _ = login.receive(bytes("+OK ready\r\n"))
        XCTAssertEqual(login.receive(bytes("+OK\r\nSASL OAUTHBEARER\r\n.\r\n")), [backSend("AUTH OAUTHBEARER\r\n")])
        XCTAssertEqual(login.receive(bytes("+ \r\n")), [backSend("\(SASL.base64Encode(response))\r\n")])
        XCTAssertEqual(login.receive(bytes("+ e30=\r\n")), [backSend("AQ==\r\n")])
        XCTAssertEqual(
            login.receive(bytes("+ e30=\r\n")), [.failed(.unavailable(reason: "Backend asked for more SASL data."))])
    }

    func testSTLSThenCapaAgain() {
        var login = machine(startTLS: true)
        _ = login.receive(bytes("+OK ready\r\n"))
        XCTAssertEqual(login.receive(bytes(dovecotCapa + "SASL PLAIN\r\n.\r\n")), [backSend("STLS\r\n")])
        XCTAssertEqual(
            login.receive(bytes("+OK Begin TLS negotiation now.\r\n-ERR forged\r\n")), [.startTLS],
            "what follows the +OK is dropped")
        XCTAssertEqual(login.receive(bytes("+OK more\r\n")), [], "nothing is read before the handshake")
        XCTAssertEqual(login.tlsEstablished(), [backSend("CAPA\r\n")])
        XCTAssertEqual(login.tlsEstablished(), [], "only once")
        XCTAssertEqual(login.receive(bytes("+OK\r\nUSER\r\n.\r\n")), [backSend("USER alice\r\n")], "forgot SASL PLAIN")
    }

    func testSTLSNotOfferedFailsClosedUnlessFallbackIsAllowed() {
        var login = machine(startTLS: true)
        _ = login.receive(bytes("+OK ready\r\n"))
        XCTAssertEqual(
            login.receive(bytes("+OK\r\nUSER\r\n.\r\n")),
            [.failed(.unavailable(reason: "Backend does not offer STARTTLS; refusing to log in without TLS."))])
        var fallback = machine(startTLS: true, fallback: true)
        _ = fallback.receive(bytes("+OK ready\r\n"))
        XCTAssertEqual(
            fallback.receive(bytes("+OK\r\nUSER\r\n.\r\n")),
            [
                .notice("Backend does not offer STARTTLS; logging in WITHOUT TLS (allow_plaintext_fallback)."),
                backSend("USER alice\r\n"),
            ])
        var refused = machine(startTLS: true)
        _ = refused.receive(bytes("+OK ready\r\n+OK\r\nSTLS\r\n.\r\n"))
        XCTAssertEqual(
            refused.receive(bytes("-ERR not now\r\n")), [.failed(.unavailable(reason: "Backend refused STLS."))])
    }

    func testBadGreetingsAndReplies() {
        var refused = machine()
        XCTAssertEqual(
            refused.receive(bytes("-ERR go away\r\n")),
            [.failed(.unavailable(reason: "Backend refused the connection."))])
        var imap = machine()
        XCTAssertEqual(
            imap.receive(bytes("* OK IMAP4rev1\r\n")),
            [.failed(.unavailable(reason: "Backend sent an unexpected greeting."))])
        var noise = machine()
        _ = noise.receive(bytes("+OK ready\r\n+OK\r\n.\r\n"))
        XCTAssertEqual(
            noise.receive(bytes("* what\r\n")),
            [.failed(.unavailable(reason: "Backend sent an unexpected reply to the login."))])
        var long = machine()
        XCTAssertEqual(
            long.receive(bytes("+OK " + String(repeating: "x", count: 2000))),
            [.failed(.unavailable(reason: "Backend sent an overlong line."))])
    }

    func testChunkingDoesNotMatter() {
        let wire = "+OK ready\r\n" + dovecotCapa + "SASL PLAIN LOGIN\r\n.\r\n+OK Logged in.\r\n"
        var reference = machine()
        let whole = reference.receive(bytes(wire))
        XCTAssertEqual(whole.last, .succeeded(text: "+OK Logged in.", leftover: []))
        for sizes in [[1], [2, 7], [13]] {
            var login = machine()
            XCTAssertEqual(chunked(bytes(wire), sizes: sizes).flatMap { login.receive($0) }, whole, "\(sizes)")
        }
    }
}
