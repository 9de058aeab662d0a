import XCTest

@testable import PosternServer

/// A server stop ends the session in every phase: before the relay the client is told (unless its TLS
/// handshake runs), and every backend connection is closed.
final class SessionShutdownTests: XCTestCase {
    private let bye = "* BYE Server shutting down.\r\n"

    func testDuringTheHandshake() throws {
        let h = try SessionHarness(tls: .implicit)
        h.start()
        h.run { h.session.shutdown() }
        XCTAssertEqual(h.outcome, .shutdown)
        XCTAssertEqual(h.clientText, "")
        XCTAssertTrue(h.run { h.client.isClosed })
    }

    func testBeforeLogin() throws {
        let h = try SessionHarness()
        h.start()
        h.run { h.session.shutdown() }
        XCTAssertEqual(h.outcome, .shutdown)
        XCTAssertTrue(h.clientText.hasSuffix(bye), h.clientText)
        XCTAssertTrue(h.run { h.client.finished })
        XCTAssertEqual(h.ended, 1)
    }

    func testWhileTheMapIsAsked() throws {
        let h = try SessionHarness()
        h.start()
        h.loginAlice()
        h.waitUntil("the lookup") { h.map.isWaiting(for: "alice") }
        h.run { h.session.shutdown() }
        XCTAssertEqual(h.outcome, .shutdown)
        XCTAssertTrue(h.clientText.hasSuffix(bye), h.clientText)
        XCTAssertFalse(h.run { h.session.holdsCredentials })
        h.map.answer("alice", with: nil)
    }

    func testWhileResolving() throws {
        let h = try SessionHarness()
        h.start()
        h.loginAlice()
        h.route("alice", to: ["a.example"])
        h.run { h.session.shutdown() }
        XCTAssertEqual(h.outcome, .shutdown)
        // A late answer finds nothing to do.
        h.run { h.dialler.answer(0, addresses: ["192.0.2.10"]) }
        XCTAssertEqual(h.run { h.dialler.connectAttempts }, [])
    }

    func testWhileTheBackendLoginRuns() throws {
        let h = try SessionHarness()
        h.start()
        h.loginAlice()
        h.route("alice", to: ["a.example"])
        h.run { h.dialler.answer(0, addresses: ["192.0.2.10"]) }
        let backend = h.backend
        h.run { backend.connect() }
        h.run { h.session.shutdown() }
        XCTAssertEqual(h.outcome, .shutdown)
        XCTAssertTrue(h.clientText.hasSuffix(bye), h.clientText)
        XCTAssertTrue(h.run { backend.isClosed })
        XCTAssertEqual(h.logs.sessionLine?.metadata["backend"], "a.example:143")
    }

    func testWhileRelaying() throws {
        let h = try SessionHarness()
        h.relayAlice()
        let backend = h.backend
        let before = h.clientText
        h.run { h.session.shutdown() }
        XCTAssertEqual(h.outcome, .shutdown)
        XCTAssertEqual(h.clientText, before + bye, "between two responses, a relayed client gets the farewell")
        XCTAssertTrue(h.run { backend.isClosed })
        XCTAssertTrue(h.run { h.client.finished })
    }

    func testASecondShutdownDoesNothing() throws {
        let h = try SessionHarness()
        h.start()
        h.run {
            h.session.shutdown()
            h.session.shutdown()
        }
        XCTAssertEqual(h.ended, 1)
        XCTAssertEqual(h.logs.lines.filter { $0.message == "session" }.count, 1)
    }
}
