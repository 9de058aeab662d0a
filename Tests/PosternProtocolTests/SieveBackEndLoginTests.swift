import XCTest

@testable import PosternProtocol

/// Logging in to a ManageSieve backend on the client's behalf.
final class SieveBackEndLoginTests: XCTestCase {
    private let alice = Credentials(user: "alice", password: "secret")
    /// base64("\0alice\0secret")
    private let alicePlain = "AGFsaWNlAHNlY3JldA=="
    private let dovecot = """
        "IMPLEMENTATION" "Dovecot (Debian) Pigeonhole"\r
        "SIEVE" "fileinto reject envelope"\r
        "NOTIFY" "mailto"\r
        "SASL" "PLAIN LOGIN XOAUTH2"\r
        "STARTTLS"\r
        "VERSION" "1.0"\r
        OK "B ready."\r

        """

    private func machine(_ credentials: Credentials? = nil, startTLS: Bool = false) -> SieveBackEndLogin {
        SieveBackEndLogin(
            credentials: credentials ?? alice, options: BackEndOptions(useStartTLS: startTLS, maxLine: 1024))
    }

    func testAuthenticatePlainAfterTheCapabilityBlock() {
        var login = machine()
        XCTAssertEqual(
            login.receive(bytes(dovecot)), [backSend("AUTHENTICATE \"PLAIN\" \"\(alicePlain)\"\r\n")])
        XCTAssertEqual(
            login.receive(bytes("OK \"Logged in.\"\r\n")), [.succeeded(text: "OK \"Logged in.\"", leftover: [])])
    }

    func testRejectionIsTheBackendsNo() {
        var login = machine()
        _ = login.receive(bytes(dovecot))
        XCTAssertEqual(
            login.receive(bytes("NO \"Authentication failed.\"\r\n")),
            [.failed(.rejected(text: "NO \"Authentication failed.\""))])
    }

    func testRejectionWithALiteral() {
        var login = machine()
        _ = login.receive(bytes(dovecot))
        XCTAssertEqual(login.receive(bytes("NO {9}\r\nAuth")), [])
        XCTAssertEqual(
            login.receive(bytes(" fail\r\n")), [.failed(.rejected(text: "NO {9}\r\nAuth fail"))])
    }

    func testStartTLSThenTheCapabilitiesAgain() {
        var login = machine(startTLS: true)
        XCTAssertEqual(login.receive(bytes(dovecot)), [backSend("STARTTLS\r\n")])
        XCTAssertEqual(
            login.receive(bytes("OK \"Begin TLS negotiation now.\"\r\n\"SASL\" \"FORGED\"\r\n")), [.startTLS])
        XCTAssertEqual(login.receive(bytes("OK \"x\"\r\n")), [], "nothing is read before the handshake")
        XCTAssertEqual(login.tlsEstablished(), [], "the server speaks first")
        XCTAssertEqual(
            login.receive(bytes("\"SASL\" \"PLAIN\"\r\n\"VERSION\" \"1.0\"\r\nOK \"TLS done.\"\r\n")),
            [backSend("AUTHENTICATE \"PLAIN\" \"\(alicePlain)\"\r\n")])
    }

    func testStartTLSNotOfferedFailsClosed() {
        var login = machine(startTLS: true)
        XCTAssertEqual(
            login.receive(bytes("\"SASL\" \"PLAIN\"\r\nOK \"ready\"\r\n")),
            [.failed(.unavailable(reason: "Backend does not offer STARTTLS; refusing to log in without TLS."))])
        var refused = machine(startTLS: true)
        _ = refused.receive(bytes(dovecot))
        XCTAssertEqual(
            refused.receive(bytes("NO \"no\"\r\n")), [.failed(.unavailable(reason: "Backend refused STARTTLS."))])
    }

    func testTokenPassThroughAndTheErrorChallenge() {
        let response = bytes("user=alice\u{1}auth=Bearer bad\u{1}\u{1}")
        var login = machine(
            Credentials(user: "alice", passThrough: SASLPassThrough(mechanism: .xoauth2, response: response)))
        XCTAssertEqual(
            login.receive(bytes(dovecot)),
            [backSend("AUTHENTICATE \"XOAUTH2\" \"\(SASL.base64Encode(response))\"\r\n")])
        XCTAssertEqual(login.receive(bytes("\"eyJzdGF0dXMiOiI0MDEifQ==\"\r\n")), [backSend("\"\"\r\n")])
        XCTAssertEqual(
            login.receive(bytes("NO \"Authentication failed.\"\r\n")),
            [.failed(.rejected(text: "NO \"Authentication failed.\""))])
        var bearer = machine(
            Credentials(user: "alice", passThrough: SASLPassThrough(mechanism: .oauthbearer, response: response)))
        XCTAssertEqual(
            bearer.receive(bytes(dovecot)),
            [.failed(.unavailable(reason: "The mailbox server does not offer OAUTHBEARER."))])
    }

    func testLoginMechanismWhenPlainIsMissing() {
        var login = machine()
        XCTAssertEqual(
            login.receive(bytes("\"SASL\" \"LOGIN\"\r\nOK \"hi\"\r\n")), [backSend("AUTHENTICATE \"LOGIN\"\r\n")])
        XCTAssertEqual(login.receive(bytes("\"VXNlcm5hbWU6\"\r\n")), [backSend("\"YWxpY2U=\"\r\n")])
        XCTAssertEqual(login.receive(bytes("{12}\r\nUGFzc3dvcmQ6\r\n")), [backSend("\"c2VjcmV0\"\r\n")])
        XCTAssertEqual(
            login.receive(bytes("OK \"in\"\r\nremaining")),
            [.succeeded(text: "OK \"in\"", leftover: bytes("remaining"))])
        var none = machine()
        XCTAssertEqual(
            none.receive(bytes("\"SASL\" \"\"\r\nOK \"hi\"\r\n")),
            [.failed(.unavailable(reason: "The mailbox server offers no login method Postern can use."))])
    }

    func testRefusalsAndBounds() {
        var bye = machine()
        XCTAssertEqual(
            bye.receive(bytes("BYE \"Too many connections\"\r\n")),
            [.failed(.unavailable(reason: "Backend refused the connection."))])
        var byeDuringLogin = machine()
        _ = byeDuringLogin.receive(bytes(dovecot))
        XCTAssertEqual(
            byeDuringLogin.receive(bytes("BYE \"bye\"\r\n")),
            [.failed(.unavailable(reason: "Backend ended the connection during the login."))])
        var long = machine()
        XCTAssertEqual(
            long.receive(bytes("\"SIEVE\" \"" + String(repeating: "x", count: 2000))),
            [.failed(.unavailable(reason: "Backend sent an overlong line."))])
        var literal = machine()
        XCTAssertEqual(
            literal.receive(bytes("\"SIEVE\" {5000}\r\n")),
            [.failed(.unavailable(reason: "Backend sent an overlong literal."))])
        var more = machine()
        _ = more.receive(bytes(dovecot))
        XCTAssertEqual(
            more.receive(bytes("\"\"\r\n")), [.failed(.unavailable(reason: "Backend asked for more SASL data."))])
    }

    func testChunkingDoesNotMatter() {
        let wire = bytes(dovecot + "OK \"Logged in.\"\r\n")
        var reference = machine()
        let whole = reference.receive(wire)
        XCTAssertEqual(whole.last, .succeeded(text: "OK \"Logged in.\"", leftover: []))
        for size in [1, 3, 17] {
            var login = machine()
            XCTAssertEqual(chunked(wire, sizes: [size]).flatMap { login.receive($0) }, whole, "chunks of \(size)")
        }
    }
}
