import XCTest

@testable import PosternServer

/// The client's credentials live only until the backend answered, and never reach a log.
final class SessionCredentialTests: XCTestCase {
    func testCredentialsAreReleasedWhenTheBackendAcceptsTheLogin() throws {
        let h = try SessionHarness()
        h.start()
        h.loginAlice()
        h.waitUntil("the lookup") { h.map.isWaiting(for: "alice") }
        XCTAssertTrue(h.run { h.session.holdsCredentials }, "the attempt holds them while the map is asked")
        h.route("alice", to: ["a.example"])
        let dialler = try XCTUnwrap(h.run { h.session.dialler })
        h.run { h.dialler.answer(0, addresses: ["192.0.2.10"]) }
        h.run { h.backend.connect() }
        XCTAssertTrue(h.run { dialler.holdsCredentials })
        XCTAssertTrue(h.run { dialler.step.holdsMachine })
        h.backendAccepts(h.backend)
        XCTAssertTrue(h.run { h.session.phaseIsRelaying })
        h.run {
            XCTAssertFalse(h.session.holdsCredentials)
            XCTAssertFalse(dialler.holdsCredentials)
            XCTAssertNil(dialler.attempt.request)
            XCTAssertFalse(dialler.step.holdsMachine, "the back-end login machine is dropped")
        }
        h.run { h.session.shutdown() }
        XCTAssertFalse(h.logs.allText.contains("s3cret-pw"))
        XCTAssertEqual(h.logs.sessionLine?.metadata["user"], "alice")
    }

    func testCredentialsAreReleasedWhenTheBackendRefusesTheLogin() throws {
        let h = try SessionHarness()
        h.start()
        h.loginAlice()
        h.route("alice", to: ["a.example"])
        let dialler = try XCTUnwrap(h.run { h.session.dialler })
        h.run { h.dialler.answer(0, addresses: ["192.0.2.10"]) }
        let backend = h.backend
        h.run {
            backend.connect()
            backend.receive("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] ready\r\n")
            backend.receive("P1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n")
        }
        XCTAssertTrue(h.clientText.contains("a NO [AUTHENTICATIONFAILED]"), h.clientText)
        h.run {
            XCTAssertFalse(h.session.holdsCredentials)
            XCTAssertFalse(dialler.holdsCredentials)
            XCTAssertTrue(backend.isClosed)
            XCTAssertFalse(h.client.isReadingPaused, "the client is read again")
        }
        h.run { h.session.shutdown() }
        XCTAssertFalse(h.logs.allText.contains("s3cret-pw"))
    }

    func testAClientThatLeavesDuringTheLoginClosesTheBackend() throws {
        let h = try SessionHarness()
        h.start()
        h.loginAlice()
        h.route("alice", to: ["a.example"])
        h.run { h.dialler.answer(0, addresses: ["192.0.2.10"]) }
        let backend = h.backend
        h.run { h.client.receiveEOF() }
        XCTAssertEqual(h.outcome, .clientClosedDuringLogin)
        XCTAssertTrue(h.run { backend.isClosed })
        XCTAssertFalse(h.run { h.session.holdsCredentials })
    }
}
