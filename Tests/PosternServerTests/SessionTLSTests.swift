import PosternIO
import XCTest

@testable import PosternServer

/// No protocol text goes into a TLS connection before its handshake finished; a failed handshake has its
/// own outcome.
final class SessionTLSTests: XCTestCase {
    func testLoginTimeoutDuringTheImplicitHandshakeClosesWithoutWriting() throws {
        let h = try SessionHarness(tls: .implicit)
        h.start()
        XCTAssertEqual(h.run { h.client.tlsStarts.count }, 1)
        h.advance(61)
        XCTAssertEqual(h.outcome, .loginTimeout)
        h.run {
            XCTAssertTrue(h.client.written.isEmpty, h.client.text)
            XCTAssertEqual(h.client.writesWhileHandshaking, 0)
            XCTAssertTrue(h.client.isClosed)
            XCTAssertFalse(h.client.finished, "a handshaking connection is closed, not finished")
        }
        XCTAssertEqual(h.logs.sessionLine?.metadata["outcome"], "login-timeout")
    }

    func testLoginTimeoutDuringAStartTLSHandshakeWritesNothingMore() throws {
        let h = try SessionHarness(tls: .starttls)
        h.start()
        h.send("a STARTTLS\r\n")
        let before = h.clientText
        XCTAssertTrue(before.contains("a OK"), before)
        XCTAssertTrue(h.run { h.client.isHandshaking })
        h.advance(61)
        XCTAssertEqual(h.outcome, .loginTimeout)
        XCTAssertEqual(h.clientText, before, "no BYE into the handshake")
        XCTAssertEqual(h.run { h.client.writesWhileHandshaking }, 0)
    }

    func testTheGreetingWaitsForTheHandshake() throws {
        let h = try SessionHarness(tls: .implicit)
        h.start()
        XCTAssertEqual(h.clientText, "")
        h.run { h.client.establishTLS() }
        XCTAssertTrue(h.clientText.hasPrefix("* OK [CAPABILITY"), h.clientText)
        h.advance(61)
        XCTAssertEqual(h.outcome, .loginTimeout)
        XCTAssertTrue(h.clientText.hasSuffix("* BYE Login timeout.\r\n"), "after the handshake the client is told")
    }

    func testAFailedClientHandshakeIsItsOwnOutcome() throws {
        let h = try SessionHarness(tls: .implicit)
        h.start()
        h.run { h.client.fail(IOError(.tlsHandshake, "TLS handshake failed: no shared cipher")) }
        XCTAssertEqual(h.outcome, .tlsHandshakeFailed)
        XCTAssertEqual(h.logs.sessionLine?.metadata["outcome"], "tls-handshake-failed")
        XCTAssertEqual(h.logs.sessionLine?.metadata["detail"], "TLS handshake failed: no shared cipher")
    }

    func testOtherClientFailuresBeforeLoginAreClientErrors() throws {
        let h = try SessionHarness()
        h.start()
        h.run { h.client.fail(IOError(.reset, "read: Connection reset by peer")) }
        XCTAssertEqual(h.outcome, .clientError)
    }
}
