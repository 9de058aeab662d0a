import XCTest

@testable import PosternServer

/// Endings from the server's side (drain, kick, removed listener) in every phase: before the relay the
/// farewell goes at once (not into a TLS handshake); in the relay only between two of the backend's
/// responses, or not at all when none comes within the grace.
final class SessionFarewellTests: XCTestCase {
    private let kicked = "* BYE Disconnected by an administrator.\r\n"
    private let shutdown = "* BYE Server shutting down.\r\n"

    func testDuringTheHandshakeNothingIsWritten() throws {
        let h = try SessionHarness(tls: .implicit)
        h.start()
        h.run { h.session.farewell(.kicked) }
        XCTAssertEqual(h.outcome, .kicked)
        XCTAssertEqual(h.clientText, "")
        XCTAssertEqual(h.run { h.client.writesWhileHandshaking }, 0)
        XCTAssertTrue(h.run { h.client.isClosed })
    }

    func testBeforeLoginTheFarewellGoesAtOnce() throws {
        let h = try SessionHarness()
        h.start()
        h.run { h.session.farewell(.kicked) }
        XCTAssertEqual(h.outcome, .kicked)
        XCTAssertTrue(h.clientText.hasSuffix(kicked), h.clientText)
        XCTAssertTrue(h.run { h.client.finished })
        XCTAssertEqual(h.logs.sessionLine?.metadata["outcome"], "kicked")
    }

    func testWhileTheMapIsAskedForARemovedListener() throws {
        let h = try SessionHarness()
        h.start()
        h.loginAlice()
        h.waitUntil("the lookup") { h.map.isWaiting(for: "alice") }
        h.run { h.session.farewell(.listenerRemoved) }
        XCTAssertEqual(h.outcome, .listenerRemoved)
        XCTAssertTrue(h.clientText.hasSuffix("* BYE This address no longer serves, reconnect.\r\n"), h.clientText)
        XCTAssertFalse(h.run { h.session.holdsCredentials })
        h.map.answer("alice", with: nil)
        XCTAssertEqual(h.ended, 1)
    }

    func testWhileTheBackendLoginRunsTheBackendIsClosed() throws {
        let h = try SessionHarness()
        h.start()
        h.loginAlice()
        h.route("alice", to: ["a.example"])
        h.run { h.dialler.answer(0, addresses: ["192.0.2.10"]) }
        let backend = h.backend
        h.run { backend.connect() }
        h.run { h.session.farewell(.shutdown) }
        XCTAssertEqual(h.outcome, .shutdown)
        XCTAssertTrue(h.clientText.hasSuffix(shutdown), h.clientText)
        XCTAssertTrue(h.run { backend.isClosed })
    }

    func testRelayedAtABoundaryTheFarewellGoesAtOnce() throws {
        let h = try SessionHarness()
        h.relayAlice()
        let backend = h.backend
        h.run { backend.receive("* 4 EXISTS\r\n") }
        h.run { h.session.farewell(.kicked) }
        XCTAssertEqual(h.outcome, .kicked)
        XCTAssertTrue(h.clientText.hasSuffix("* 4 EXISTS\r\n" + kicked), h.clientText)
        XCTAssertTrue(h.run { backend.isClosed })
        XCTAssertTrue(h.run { h.client.finished })
    }

    func testRelayedMidResponseTheFarewellWaitsForTheResponsesEnd() throws {
        let h = try SessionHarness()
        h.relayAlice()
        let backend = h.backend
        h.run { backend.receive("* 1 FETCH (BODY[] {13}\r\nline\r\n* BY") }
        let before = h.clientText
        h.run { h.session.farewell(.shutdown) }
        XCTAssertNil(h.outcome, "nothing may go inside the literal")
        XCTAssertEqual(h.clientText, before)
        h.run { h.client.receive("b NOOP\r\n") }
        XCTAssertTrue(h.run { backend.text.hasSuffix("b NOOP\r\n") }, "the client is still relayed")
        h.run { backend.receive("E\r\n)\r\n* 2 EXISTS\r\nb OK done\r\n") }
        XCTAssertEqual(h.outcome, .shutdown)
        XCTAssertEqual(h.clientText, before + "E\r\n)\r\n" + shutdown, "the farewell follows the FETCH, nothing after")
        XCTAssertTrue(h.run { backend.isClosed })
    }

    func testRelayedInsideALiteralUntilTheGraceEndsTheSessionClosesWithoutAFarewell() throws {
        let h = try SessionHarness()
        h.relayAlice()
        let backend = h.backend
        h.run { backend.receive("* 1 FETCH (BODY[] {100}\r\npart of it\r\n") }
        let before = h.clientText
        h.run { h.session.farewell(.kicked) }
        h.advance(1.5)
        XCTAssertNil(h.outcome, "still within the grace")
        h.advance(1)
        XCTAssertEqual(h.outcome, .kicked)
        XCTAssertEqual(h.clientText, before, "no farewell inside the literal")
        XCTAssertEqual(
            h.logs.sessionLine?.metadata["detail"],
            "no boundary between responses before the deadline: closed without a farewell")
        XCTAssertTrue(h.run { backend.isClosed })
    }

    func testAfterCOMPRESSTheSessionClosesAtOnceWithoutAFarewell() throws {
        let h = try SessionHarness()
        h.relayAlice()
        let backend = h.backend
        h.run { h.client.receive("c COMPRESS DEFLATE\r\n") }
        h.run { backend.receive("c OK Begin compression.\r\n") }
        let before = h.clientText
        h.run { h.session.farewell(.shutdown) }
        XCTAssertEqual(h.outcome, .shutdown)
        XCTAssertEqual(h.clientText, before)
    }

    func testASecondFarewellDoesNotReplaceThePendingOne() throws {
        let h = try SessionHarness()
        h.relayAlice()
        let backend = h.backend
        h.run { backend.receive("* 1 EXI") }
        h.run {
            h.session.farewell(.kicked)
            h.session.farewell(.shutdown)
        }
        h.run { backend.receive("STS\r\n") }
        XCTAssertEqual(h.outcome, .kicked)
        XCTAssertTrue(h.clientText.hasSuffix("* 1 EXISTS\r\n" + kicked), h.clientText)
        XCTAssertEqual(h.ended, 1)
    }
}
