import XCTest

@testable import PosternProtocol

/// The forwarded client on the wire of each back-end login machine.
final class ForwardingBackEndLoginTests: XCTestCase {
    private let alice = Credentials(user: "alice", password: "secret")
    /// base64("\0alice\0secret")
    private let alicePlain = "AGFsaWNlAHNlY3JldA=="
    private let forwarded = ForwardedClient(address: "192.0.2.7", port: 50000, sessionID: "k3", ttl: 4)
    private var idLine: String {
        "\"x-originating-ip\" \"192.0.2.7\" \"x-originating-port\" \"50000\" \"x-session-ext-id\" \"k3\" "
            + "\"x-proxy-ttl\" \"4\""
    }

    private func options(startTLS: Bool = false) -> BackEndOptions {
        var options = BackEndOptions(useStartTLS: startTLS, maxLine: 1024)
        options.forwardedClient = forwarded
        return options
    }

    // MARK: IMAP

    func testIMAPSendsIDBeforeTheLogin() {
        var login = IMAPBackEndLogin(credentials: alice, options: options())
        XCTAssertEqual(
            login.receive(bytes("* OK [CAPABILITY IMAP4rev1 SASL-IR ID AUTH=PLAIN] Dovecot ready.\r\n")),
            [backSend("P1 ID (\(idLine))\r\n")])
        XCTAssertTrue(login.holdsCredentials, "the credentials wait for the ID answer")
        XCTAssertEqual(login.receive(bytes("* ID NIL\r\n")), [])
        XCTAssertEqual(
            login.receive(bytes("P1 OK ID completed.\r\n")), [backSend("P2 AUTHENTICATE PLAIN \(alicePlain)\r\n")])
        XCTAssertEqual(login.receive(bytes("P2 OK Logged in\r\n")), [.succeeded(text: "OK Logged in", leftover: [])])
    }

    func testIMAPGoesOnWhenIDIsRefused() {
        var login = IMAPBackEndLogin(credentials: alice, options: options())
        _ = login.receive(bytes("* OK [CAPABILITY IMAP4rev1 SASL-IR ID AUTH=PLAIN] ready\r\n"))
        XCTAssertEqual(
            login.receive(bytes("P1 BAD Unknown command\r\n")),
            [.notice("Backend refused ID: NO Unknown command"), backSend("P2 AUTHENTICATE PLAIN \(alicePlain)\r\n")])
    }

    func testIMAPWithoutIDCapabilityLogsInWithANotice() {
        var login = IMAPBackEndLogin(credentials: alice, options: options())
        XCTAssertEqual(
            login.receive(bytes("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] ready\r\n")),
            [
                .notice("Backend does not offer ID; the client's address is not forwarded."),
                backSend("P1 AUTHENTICATE PLAIN \(alicePlain)\r\n"),
            ])
    }

    func testIMAPSendsIDOnlyAfterSTARTTLS() {
        var login = IMAPBackEndLogin(credentials: alice, options: options(startTLS: true))
        XCTAssertEqual(
            login.receive(bytes("* OK [CAPABILITY IMAP4rev1 STARTTLS ID AUTH=PLAIN] ready\r\n")),
            [backSend("P1 STARTTLS\r\n")])
        XCTAssertEqual(login.receive(bytes("P1 OK Begin TLS\r\n")), [.startTLS])
        XCTAssertEqual(login.tlsEstablished(), [backSend("P2 CAPABILITY\r\n")])
        XCTAssertEqual(login.receive(bytes("* CAPABILITY IMAP4rev1 ID AUTH=PLAIN\r\n")), [])
        XCTAssertEqual(login.receive(bytes("P2 OK done\r\n")), [backSend("P3 ID (\(idLine))\r\n")])
    }

    func testIMAPWithoutForwardingSendsNoID() {
        var login = IMAPBackEndLogin(credentials: alice, options: BackEndOptions(useStartTLS: false))
        XCTAssertEqual(
            login.receive(bytes("* OK [CAPABILITY IMAP4rev1 SASL-IR ID AUTH=PLAIN] ready\r\n")),
            [backSend("P1 AUTHENTICATE PLAIN \(alicePlain)\r\n")])
    }

    // MARK: POP3

    func testPOP3SendsXCLIENTWhenTheGreetingOffersIt() {
        var login = POP3BackEndLogin(credentials: alice, options: options())
        XCTAssertEqual(login.receive(bytes("+OK [XCLIENT] Dovecot ready.\r\n")), [backSend("CAPA\r\n")])
        XCTAssertEqual(
            login.receive(bytes("+OK\r\nUSER\r\nSASL PLAIN\r\n.\r\n")),
            [backSend("XCLIENT ADDR=192.0.2.7 PORT=50000 SESSION=k3 TTL=4\r\n")])
        XCTAssertEqual(login.receive(bytes("+OK Updated\r\n")), [backSend("AUTH PLAIN \(alicePlain)\r\n")])
        XCTAssertEqual(login.receive(bytes("+OK Logged in.\r\n")), [.succeeded(text: "+OK Logged in.", leftover: [])])
    }

    func testPOP3GoesOnWhenXCLIENTIsRefused() {
        var login = POP3BackEndLogin(credentials: alice, options: options())
        _ = login.receive(bytes("+OK [XCLIENT] ready\r\n"))
        _ = login.receive(bytes("+OK\r\nSASL PLAIN\r\n.\r\n"))
        XCTAssertEqual(
            login.receive(bytes("-ERR You are not from trusted IP\r\n")),
            [
                .notice("Backend refused XCLIENT: -ERR You are not from trusted IP"),
                backSend("AUTH PLAIN \(alicePlain)\r\n"),
            ])
    }

    func testPOP3WithoutXCLIENTLogsInWithANotice() {
        var login = POP3BackEndLogin(credentials: alice, options: options())
        _ = login.receive(bytes("+OK Dovecot ready.\r\n"))
        XCTAssertEqual(
            login.receive(bytes("+OK\r\nSASL PLAIN\r\n.\r\n")),
            [
                .notice("Backend does not offer XCLIENT; the client's address is not forwarded."),
                backSend("AUTH PLAIN \(alicePlain)\r\n"),
            ])
    }

    func testPOP3XCLIENTInCAPACounts() {
        var login = POP3BackEndLogin(credentials: alice, options: options())
        _ = login.receive(bytes("+OK ready\r\n"))
        XCTAssertEqual(
            login.receive(bytes("+OK\r\nXCLIENT\r\nSASL PLAIN\r\n.\r\n")),
            [backSend("XCLIENT ADDR=192.0.2.7 PORT=50000 SESSION=k3 TTL=4\r\n")])
    }

    // MARK: ManageSieve

    private let sieveGreeting = """
        "IMPLEMENTATION" "Dovecot Pigeonhole"\r
        "SASL" "PLAIN"\r
        "XCLIENT"\r
        "VERSION" "1.0"\r
        OK "ready."\r

        """

    func testSieveSendsXCLIENTWhenListed() {
        var login = SieveBackEndLogin(credentials: alice, options: options())
        XCTAssertEqual(
            login.receive(bytes(sieveGreeting)), [backSend("XCLIENT ADDR=192.0.2.7 PORT=50000 SESSION=k3 TTL=4\r\n")])
        XCTAssertTrue(login.holdsCredentials)
        XCTAssertEqual(
            login.receive(bytes("OK \"Updated\"\r\n")), [backSend("AUTHENTICATE \"PLAIN\" \"\(alicePlain)\"\r\n")])
    }

    func testSieveGoesOnWhenXCLIENTIsRefusedAndFailsOnBye() {
        var login = SieveBackEndLogin(credentials: alice, options: options())
        _ = login.receive(bytes(sieveGreeting))
        XCTAssertEqual(
            login.receive(bytes("NO \"Not trusted\"\r\n")),
            [
                .notice("Backend refused XCLIENT: NO \"Not trusted\""),
                backSend("AUTHENTICATE \"PLAIN\" \"\(alicePlain)\"\r\n"),
            ])
        var other = SieveBackEndLogin(credentials: alice, options: options())
        _ = other.receive(bytes(sieveGreeting))
        XCTAssertEqual(
            other.receive(bytes("BYE \"go away\"\r\n")),
            [.failed(.unavailable(reason: "Backend sent an unexpected reply to XCLIENT."))])
    }

    func testSieveWithoutXCLIENTLogsInWithANotice() {
        var login = SieveBackEndLogin(credentials: alice, options: options())
        XCTAssertEqual(
            login.receive(bytes("\"SASL\" \"PLAIN\"\r\nOK \"ready\"\r\n")),
            [
                .notice("Backend does not offer XCLIENT; the client's address is not forwarded."),
                backSend("AUTHENTICATE \"PLAIN\" \"\(alicePlain)\"\r\n"),
            ])
    }
}
