import XCTest

@testable import PosternProtocol

/// What every back-end login machine bounds and releases: the capability lines a backend may send before
/// it answers the login, and the client's credentials once they were sent.
final class BackEndLoginBoundsTests: XCTestCase {
    private let alice = Credentials(user: "alice", password: "secret")
    private let options = BackEndOptions(useStartTLS: false, maxLine: 1024)
    private let tooMany = BackEndAction.failed(.unavailable(reason: "Backend sent too many capability lines."))

    // MARK: Capability lines

    func testIMAPTakesTwoHundredUntaggedLinesBeforeTheTaggedReply() {
        var login = IMAPBackEndLogin(credentials: alice, options: options)
        XCTAssertEqual(login.receive(bytes("* OK ready\r\n")), [backSend("P1 CAPABILITY\r\n")])
        let lines = String(repeating: "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n", count: 199) + "* OK [ALERT] hi\r\n"
        XCTAssertEqual(login.receive(bytes(lines)), [])
        XCTAssertEqual(login.receive(bytes("P1 OK done\r\n")), [backSend("P2 AUTHENTICATE PLAIN\r\n")])
    }

    func testIMAPFailsAtTheTwoHundredAndFirstUntaggedLine() {
        var login = IMAPBackEndLogin(credentials: alice, options: options)
        _ = login.receive(bytes("* OK ready\r\n"))
        XCTAssertEqual(
            login.receive(bytes(String(repeating: "* CAPABILITY IMAP4rev1\r\n", count: 201) + "P1 OK done\r\n")),
            [tooMany])
        XCTAssertFalse(login.holdsCredentials)
        XCTAssertEqual(login.receive(bytes("P1 OK done\r\n")), [], "the machine is done")
    }

    func testIMAPUntaggedLinesWhileWaitingForTheLoginCountToo() {
        var small = options
        small.maxCapabilityLines = 3
        var login = IMAPBackEndLogin(credentials: alice, options: small)
        XCTAssertEqual(login.receive(bytes("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n")).count, 1)
        XCTAssertEqual(login.receive(bytes("* 1 EXISTS\r\n* 2 EXISTS\r\n* 3 EXISTS\r\n")), [])
        XCTAssertEqual(login.receive(bytes("* 4 EXISTS\r\n")), [tooMany])
    }

    func testPOP3TakesTwoHundredCAPALines() {
        var login = POP3BackEndLogin(credentials: alice, options: options)
        _ = login.receive(bytes("+OK ready\r\n"))
        XCTAssertEqual(
            login.receive(bytes("+OK\r\n" + String(repeating: "X-CAP\r\n", count: 199) + "USER\r\n.\r\n")),
            [backSend("USER alice\r\n")])
        var flood = POP3BackEndLogin(credentials: alice, options: options)
        _ = flood.receive(bytes("+OK ready\r\n"))
        XCTAssertEqual(
            flood.receive(bytes("+OK\r\n" + String(repeating: "X-CAP\r\n", count: 201) + ".\r\n")), [tooMany])
        XCTAssertFalse(flood.holdsCredentials)
    }

    func testSieveTakesTwoHundredCapabilityLines() {
        let sasl = "\"SASL\" \"PLAIN\"\r\n"
        var login = SieveBackEndLogin(credentials: alice, options: options)
        XCTAssertEqual(
            login.receive(bytes(String(repeating: "\"X\" \"y\"\r\n", count: 199) + sasl + "OK \"hi\"\r\n")),
            [backSend("AUTHENTICATE \"PLAIN\" \"AGFsaWNlAHNlY3JldA==\"\r\n")])
        var flood = SieveBackEndLogin(credentials: alice, options: options)
        XCTAssertEqual(flood.receive(bytes(String(repeating: "\"X\" \"y\"\r\n", count: 200) + sasl)), [tooMany])
        XCTAssertFalse(flood.holdsCredentials)
    }

    // MARK: Credentials

    func testIMAPDropsTheCredentialsOnceTheLoginIsSent() {
        var login = IMAPBackEndLogin(credentials: alice, options: options)
        XCTAssertTrue(login.holdsCredentials)
        _ = login.receive(bytes("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] ready\r\n"))
        XCTAssertFalse(login.holdsCredentials, "the PLAIN message went with the command")
        XCTAssertEqual(login.receive(bytes("P1 OK in\r\n")), [.succeeded(text: "OK in", leftover: [])])
        XCTAssertFalse(login.holdsCredentials)
    }

    func testIMAPKeepsTheLiteralsUntilTheirContinuations() {
        var login = IMAPBackEndLogin(credentials: alice, options: options)
        XCTAssertEqual(login.receive(bytes("* OK [CAPABILITY IMAP4rev1] ready\r\n")), [backSend("P1 LOGIN {5}\r\n")])
        XCTAssertTrue(login.holdsCredentials)
        _ = login.receive(bytes("+ go\r\n"))
        XCTAssertTrue(login.holdsCredentials, "the password literal is still to go")
        XCTAssertEqual(login.receive(bytes("+ go\r\n")), [backSend("secret\r\n")])
        XCTAssertFalse(login.holdsCredentials)
        XCTAssertEqual(login.receive(bytes("P1 NO wrong\r\n")), [.failed(.rejected(text: "NO wrong"))])
        XCTAssertFalse(login.holdsCredentials)
    }

    func testIMAPWithoutSASLIRKeepsThePlainMessageUntilTheBackendAnswers() {
        var login = IMAPBackEndLogin(credentials: alice, options: options)
        _ = login.receive(bytes("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n"))
        XCTAssertTrue(login.holdsCredentials)
        XCTAssertEqual(login.receive(bytes("P1 NO go away\r\n")), [.failed(.rejected(text: "NO go away"))])
        XCTAssertFalse(login.holdsCredentials, "released when the backend answers")
    }

    func testPOP3KeepsThePasswordUntilPASS() {
        var login = POP3BackEndLogin(credentials: alice, options: options)
        _ = login.receive(bytes("+OK ready\r\n"))
        XCTAssertEqual(login.receive(bytes("-ERR no CAPA\r\n")), [backSend("USER alice\r\n")])
        XCTAssertTrue(login.holdsCredentials)
        XCTAssertEqual(login.receive(bytes("+OK\r\n")), [backSend("PASS secret\r\n")])
        XCTAssertFalse(login.holdsCredentials)
        XCTAssertEqual(login.receive(bytes("+OK in\r\n")), [.succeeded(text: "+OK in", leftover: [])])
        XCTAssertFalse(login.holdsCredentials)
        var refused = POP3BackEndLogin(credentials: alice, options: options)
        _ = refused.receive(bytes("+OK ready\r\n-ERR no CAPA\r\n"))
        XCTAssertEqual(refused.receive(bytes("-ERR no such user\r\n")), [.failed(.rejected(text: "-ERR no such user"))])
        XCTAssertFalse(refused.holdsCredentials)
    }

    func testSieveDropsTheCredentialsAsTheyAreSent() {
        var plain = SieveBackEndLogin(credentials: alice, options: options)
        XCTAssertTrue(plain.holdsCredentials)
        _ = plain.receive(bytes("\"SASL\" \"PLAIN\"\r\nOK \"hi\"\r\n"))
        XCTAssertFalse(plain.holdsCredentials)
        XCTAssertEqual(plain.receive(bytes("OK \"in\"\r\n")), [.succeeded(text: "OK \"in\"", leftover: [])])
        XCTAssertFalse(plain.holdsCredentials)
        var login = SieveBackEndLogin(credentials: alice, options: options)
        _ = login.receive(bytes("\"SASL\" \"LOGIN\"\r\nOK \"hi\"\r\n"))
        XCTAssertTrue(login.holdsCredentials, "user and password wait for their challenges")
        _ = login.receive(bytes("\"VXNlcm5hbWU6\"\r\n"))
        XCTAssertTrue(login.holdsCredentials)
        XCTAssertEqual(login.receive(bytes("NO \"bad\"\r\n")), [.failed(.rejected(text: "NO \"bad\""))])
        XCTAssertFalse(login.holdsCredentials)
    }

    func testEveryMachineReleasesTheCredentialsWhenItFailsEarly() {
        var imap = IMAPBackEndLogin(credentials: alice, options: options)
        _ = imap.receive(bytes("* BYE busy\r\n"))
        var pop3 = POP3BackEndLogin(credentials: alice, options: options)
        _ = pop3.receive(bytes("-ERR busy\r\n"))
        var sieve = SieveBackEndLogin(credentials: alice, options: options)
        _ = sieve.receive(bytes("BYE \"busy\"\r\n"))
        let machines: [any BackEndLoginMachine] = [imap, pop3, sieve]
        XCTAssertEqual(machines.map(\.holdsCredentials), [false, false, false])
    }
}
