import XCTest

@testable import PosternProtocol

/// The server side of SASL exchanges (PLAIN, LOGIN, XOAUTH2, OAUTHBEARER) and the backend's login plan.
final class SASLMechanismTests: XCTestCase {
    private let token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"

    private func xoauth2(_ user: String) -> [UInt8] { bytes("user=\(user)\u{1}auth=Bearer \(token)\u{1}\u{1}") }

    // MARK: PLAIN and LOGIN

    func testPlainWithAndWithoutInitialResponse() {
        var exchange = SASLServerExchange(mechanism: .plain)
        XCTAssertEqual(
            exchange.start(initialResponse: bytes("\0tim\0tanstaaftanstaaf")),
            .done(
                LoginRequest(credentials: Credentials(user: "tim", password: "tanstaaftanstaaf"), mechanism: .plain)))
        var asked = SASLServerExchange(mechanism: .plain)
        XCTAssertEqual(asked.start(initialResponse: nil), .challenge([]))
        XCTAssertEqual(
            asked.next(bytes("Ursel\0Kurt\0xipj3plmq")),
            .done(
                LoginRequest(
                    credentials: Credentials(user: "Kurt", password: "xipj3plmq", authzid: "Ursel"), mechanism: .plain))
        )
    }

    func testPlainAuthzidIsTheRoutingKey() {
        XCTAssertEqual(Credentials(user: "Kurt", password: "x", authzid: "Ursel").routingKey, "Ursel")
        XCTAssertEqual(Credentials(user: "Kurt", password: "x", authzid: "").routingKey, "Kurt")
    }

    func testMalformedPlain() {
        for message in ["", "alice", "\0alice", "\0\0pw", "a\0b\0c\0d"] {
            var exchange = SASLServerExchange(mechanism: .plain)
            XCTAssertEqual(
                exchange.start(initialResponse: bytes(message)), .malformed("Malformed PLAIN response"), message)
        }
    }

    func testLoginAsksForUserThenPassword() {
        var exchange = SASLServerExchange(mechanism: .login)
        XCTAssertEqual(exchange.start(initialResponse: nil), .challenge(bytes("Username:")))
        XCTAssertEqual(exchange.next(bytes("alice")), .challenge(bytes("Password:")))
        XCTAssertEqual(
            exchange.next(bytes("pass word")),
            .done(LoginRequest(credentials: Credentials(user: "alice", password: "pass word"), mechanism: .saslLogin)))
    }

    func testLoginInitialResponseIsTheUserName() {
        var exchange = SASLServerExchange(mechanism: .login)
        XCTAssertEqual(exchange.start(initialResponse: bytes("bob")), .challenge(bytes("Password:")))
        XCTAssertEqual(
            exchange.next(bytes("pw")),
            .done(LoginRequest(credentials: Credentials(user: "bob", password: "pw"), mechanism: .saslLogin)))
    }

    func testLoginRejectsEmptyUserAndNUL() {
        var empty = SASLServerExchange(mechanism: .login)
        XCTAssertEqual(empty.start(initialResponse: []), .malformed("Empty user name"))
        var nul = SASLServerExchange(mechanism: .login)
        _ = nul.start(initialResponse: nil)
        XCTAssertEqual(nul.next(bytes("a\0b")), .malformed("Malformed LOGIN response"))
        var utf8 = SASLServerExchange(mechanism: .login)
        _ = utf8.start(initialResponse: bytes("alice"))
        XCTAssertEqual(utf8.next([0xC3, 0x28]), .malformed("Malformed LOGIN response"))
    }

    // MARK: Token mechanisms

    func testXOAUTH2RoutesByItsUserAndKeepsTheResponse() {
        var exchange = SASLServerExchange(mechanism: .xoauth2)
        let response = xoauth2("alice@example.org")
        guard case .done(let request) = exchange.start(initialResponse: response) else {
            return XCTFail("expected a login")
        }
        XCTAssertEqual(request.mechanism, .xoauth2)
        XCTAssertEqual(request.credentials.routingKey, "alice@example.org")
        XCTAssertEqual(request.credentials.passThrough, SASLPassThrough(mechanism: .xoauth2, response: response))
        XCTAssertEqual(request.credentials.password, "")
    }

    func testXOAUTH2Continuation() {
        var exchange = SASLServerExchange(mechanism: .xoauth2)
        XCTAssertEqual(exchange.start(initialResponse: nil), .challenge([]))
        guard case .done(let request) = exchange.next(xoauth2("bob")) else { return XCTFail("expected a login") }
        XCTAssertEqual(request.credentials.user, "bob")
    }

    func testMalformedXOAUTH2() {
        let cases = [
            "", "user=alice", "user=alice\u{1}auth=Bearer x\u{1}", "auth=Bearer x\u{1}user=a\u{1}\u{1}",
            "user=\u{1}auth=Bearer x\u{1}\u{1}", "user=alice\u{1}\u{1}", "user=al\nice\u{1}auth=Bearer x\u{1}\u{1}",
        ]
        for text in cases {
            XCTAssertNil(SASL.xoauth2User(bytes(text)), text.debugDescription)
            var exchange = SASLServerExchange(mechanism: .xoauth2)
            XCTAssertEqual(
                exchange.start(initialResponse: bytes(text)), .malformed("Malformed XOAUTH2 response"),
                text.debugDescription)
        }
    }

    func testOAUTHBEARERRoutesByTheAuthorizationIdentity() {
        let response = bytes(
            "n,a=user@example.com,\u{1}host=server.example.com\u{1}port=143\u{1}auth=Bearer vF9\u{1}\u{1}")
        var exchange = SASLServerExchange(mechanism: .oauthbearer)
        guard case .done(let request) = exchange.start(initialResponse: response) else {
            return XCTFail("expected a login")
        }
        XCTAssertEqual(request.mechanism, .oauthbearer)
        XCTAssertEqual(request.credentials.routingKey, "user@example.com")
        XCTAssertEqual(request.credentials.passThrough?.response, response, "forwarded unchanged")
    }

    func testOAUTHBEARERUnescapesTheGS2Name() {
        XCTAssertEqual(
            try SASL.oauthBearerUser(bytes("y,a=a=2Cb=3Dc,\u{1}auth=Bearer x\u{1}\u{1}")).get(), "a,b=c")
        XCTAssertEqual(
            SASL.oauthBearerUser(bytes("n,a=a=2,\u{1}auth=Bearer x\u{1}\u{1}")),
            .failure(SASLFormatError(reason: "Malformed OAUTHBEARER response")))
        XCTAssertEqual(
            SASL.oauthBearerUser(bytes("n,a=a=3E,\u{1}auth=Bearer x\u{1}\u{1}")),
            .failure(SASLFormatError(reason: "Malformed OAUTHBEARER response")))
    }

    func testOAUTHBEARERWithoutAUserCannotBeRouted() {
        XCTAssertEqual(
            SASL.oauthBearerUser(bytes("n,,\u{1}auth=Bearer x\u{1}\u{1}")),
            .failure(SASLFormatError(reason: "OAUTHBEARER needs the user (a=) to choose a server")))
        XCTAssertEqual(
            SASL.oauthBearerUser(bytes("p=tls-unique,a=bob,\u{1}auth=Bearer x\u{1}\u{1}")),
            .failure(SASLFormatError(reason: "Channel binding cannot be passed through a proxy")))
        for text in [
            "", "n,a=bob,", "n,a=bob\u{1}auth=Bearer x\u{1}\u{1}", "n,a=bob,\u{1}host=x\u{1}\u{1}",
            "x,a=b,\u{1}auth=y\u{1}\u{1}",
        ] {
            XCTAssertEqual(
                SASL.oauthBearerUser(bytes(text)), .failure(SASLFormatError(reason: "Malformed OAUTHBEARER response")),
                text.debugDescription)
        }
    }

    func testResponseDecoding() {
        XCTAssertEqual(SASLServerExchange.decodeResponse(bytes("*")), .cancelled)
        XCTAssertEqual(SASLServerExchange.decodeResponse(bytes("")), .data([]))
        XCTAssertEqual(SASLServerExchange.decodeResponse(bytes("YWJj")), .data(bytes("abc")))
        XCTAssertEqual(SASLServerExchange.decodeResponse(bytes("YWJ!")), .invalidBase64)
        XCTAssertEqual(SASLServerExchange.decodeInitialResponse(bytes("=")), .data([]))
        XCTAssertEqual(SASLServerExchange.decodeInitialResponse(bytes("*")), .invalidBase64)
    }

    // MARK: Secrets stay out of descriptions

    func testCredentialsNeverDescribeTheirSecrets() {
        let password = Credentials(user: "alice", password: "Top-Secret-1", authzid: "boss")
        let bearer = Credentials(
            user: "bob", passThrough: SASLPassThrough(mechanism: .oauthbearer, response: bytes("auth=Bearer tok-777")))
        for text in [
            "\(password)", String(reflecting: password), "\(bearer)", String(reflecting: bearer),
            "\(LoginRequest(credentials: bearer, mechanism: .oauthbearer))",
        ] {
            XCTAssertFalse(text.contains("Top-Secret-1"), text)
            XCTAssertFalse(text.contains("tok-777"), text)
        }
        XCTAssertTrue("\(password)".contains("alice"))
    }

    // MARK: The backend's side

    func testPlanForPasswords() {
        let alice = Credentials(user: "alice", password: "pw")
        XCTAssertEqual(
            BackEndAuthPlan.choose(alice, offered: ["PLAIN", "LOGIN"], passwordCommand: true),
            .sasl(BackEndSASL(mechanism: .plain, responses: [bytes("\0alice\0pw")])))
        XCTAssertEqual(BackEndAuthPlan.choose(alice, offered: ["LOGIN"], passwordCommand: true), .passwordCommand)
        XCTAssertEqual(
            BackEndAuthPlan.choose(alice, offered: ["LOGIN"], passwordCommand: false),
            .sasl(BackEndSASL(mechanism: .login, responses: [bytes("alice"), bytes("pw")])))
        XCTAssertEqual(
            BackEndAuthPlan.choose(alice, offered: [], passwordCommand: false),
            .unsupported("The mailbox server offers no login method Postern can use."))
        XCTAssertEqual(
            BackEndAuthPlan.choose(
                Credentials(user: "k", password: "p", authzid: "u"), offered: ["LOGIN"], passwordCommand: true),
            .unsupported("The mailbox server does not offer PLAIN for an authorization identity."))
    }

    func testPlanForTokensUsesTheClientsMechanismOnly() {
        let bearer = Credentials(
            user: "bob", passThrough: SASLPassThrough(mechanism: .xoauth2, response: xoauth2("bob")))
        XCTAssertEqual(
            BackEndAuthPlan.choose(bearer, offered: ["PLAIN", "XOAUTH2"], passwordCommand: true),
            .sasl(BackEndSASL(mechanism: .xoauth2, responses: [xoauth2("bob")])))
        XCTAssertEqual(
            BackEndAuthPlan.choose(bearer, offered: ["PLAIN", "OAUTHBEARER"], passwordCommand: true),
            .unsupported("The mailbox server does not offer XOAUTH2."))
    }

    func testBackEndSASLAnswersATokenErrorOnceWithTheDummyResponse() {
        var xo = BackEndSASL(mechanism: .xoauth2, responses: [bytes("r")])
        XCTAssertEqual(xo.takeInitialResponse(), bytes("r"))
        XCTAssertEqual(xo.answer(), [], "XOAUTH2: an empty response to the error challenge")
        XCTAssertNil(xo.answer())
        var bearer = BackEndSASL(mechanism: .oauthbearer, responses: [bytes("r")])
        XCTAssertEqual(bearer.answer(), bytes("r"), "without an initial response the first challenge takes it")
        XCTAssertEqual(bearer.answer(), [1], "OAUTHBEARER: ^A (RFC 7628 §3.2.3)")
        XCTAssertNil(bearer.answer())
        var plain = BackEndSASL(mechanism: .plain, responses: [bytes("p")])
        XCTAssertEqual(plain.takeInitialResponse(), bytes("p"))
        XCTAssertNil(plain.answer(), "PLAIN has nothing more to say")
        var login = BackEndSASL(mechanism: .login, responses: [bytes("u"), bytes("p")])
        XCTAssertNil(login.takeInitialResponse(), "LOGIN waits for the server's prompt")
        XCTAssertEqual(login.answer(), bytes("u"))
        XCTAssertEqual(login.answer(), bytes("p"))
        XCTAssertNil(login.answer())
        var long = BackEndSASL(mechanism: .plain, responses: [[UInt8](repeating: 65, count: 300)])
        XCTAssertNil(long.takeInitialResponse(limit: 200), "too long to go with the command")
        XCTAssertEqual(long.answer()?.count, 300)
    }
}
