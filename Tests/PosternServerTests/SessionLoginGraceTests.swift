import XCTest

@testable import PosternServer

/// The drain's login grace: a session that waits for a login command is idle once its client has been
/// quiet for the grace (since the greeting, its last input, or the answer that brought it back to
/// waiting); a TLS handshake or a login under way is never idle.
final class SessionLoginGraceTests: XCTestCase {
    private let grace: UInt64 = 2_000_000_000

    func testAGreetedClientBecomesIdleOnlyAfterTheGrace() throws {
        let h = try SessionHarness()
        h.start()
        XCTAssertFalse(h.run { h.session.isIdleBeforeLogin(idleFor: grace) }, "just greeted")
        h.advance(1.5)
        XCTAssertFalse(h.run { h.session.isIdleBeforeLogin(idleFor: grace) })
        h.advance(0.6)
        XCTAssertTrue(h.run { h.session.isIdleBeforeLogin(idleFor: grace) }, "quiet for 2.1 s")
        XCTAssertTrue(h.run { h.session.isIdleBeforeLogin(idleFor: 0) })
    }

    func testClientInputRestartsTheQuietTime() throws {
        let h = try SessionHarness()
        h.start()
        h.advance(5)
        h.send("a CAPABILITY\r\n")
        XCTAssertFalse(h.run { h.session.isIdleBeforeLogin(idleFor: grace) }, "the client just spoke")
        h.advance(2.5)
        XCTAssertTrue(h.run { h.session.isIdleBeforeLogin(idleFor: grace) })
    }

    func testALoginUnderWayIsNeverIdle() throws {
        let h = try SessionHarness()
        h.start()
        h.loginAlice()
        h.waitUntil("the lookup") { h.map.isWaiting(for: "alice") }
        h.advance(10)
        XCTAssertFalse(h.run { h.session.isIdleBeforeLogin(idleFor: 0) }, "the map is asked")
        XCTAssertNil(h.outcome)
    }

    func testAFailedLoginBringsTheSessionBackToWaitingAndRestartsTheQuietTime() throws {
        let h = try SessionHarness()
        h.start()
        h.loginAlice()
        h.waitUntil("the lookup") { h.map.isWaiting(for: "alice") }
        h.advance(10)
        h.map.answer("alice", with: nil)
        h.waitUntil("the answer, held or not") {
            _ = h.timer.fire(upTo: h.clock.now() &+ 60_000_000_000)
            return h.client.text.contains("a NO")
        }
        XCTAssertFalse(h.run { h.session.isIdleBeforeLogin(idleFor: grace) }, "answered just now")
        XCTAssertTrue(h.run { h.session.isIdleBeforeLogin(idleFor: 0) }, "waiting for a command again")
    }

    func testDuringTheHandshakeTheSessionIsNotIdle() throws {
        let h = try SessionHarness(tls: .implicit)
        h.start()
        h.advance(5)
        XCTAssertFalse(h.run { h.session.isIdleBeforeLogin(idleFor: 0) })
    }
}
