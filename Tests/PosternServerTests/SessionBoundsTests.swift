import PosternConfig
import PosternProtocol
import XCTest

@testable import PosternServer

/// What one client can make a session hold before login: its output (backpressure and a hard cap), its
/// commands (a budget, and a yield that gives the queue to others).
final class SessionBoundsTests: XCTestCase {
    private let capability = "a CAPABILITY\r\n"

    func testBeforeLoginTheClientIsNotReadWhileItsOutputIsBacklogged() throws {
        let h = try SessionHarness()
        h.start()
        h.run { h.client.holdsOutput = true }
        var sent = 0
        while !h.run({ h.client.isReadingPaused }) && sent < 1000 {
            XCTAssertLessThan(h.run { h.client.pendingCount }, SessionHarness.bufferSize, "paused late")
            h.send(capability)
            sent += 1
        }
        h.run {
            XCTAssertTrue(h.client.isReadingPaused)
            XCTAssertGreaterThanOrEqual(h.client.pendingCount, SessionHarness.bufferSize)
            h.client.drain()
            XCTAssertFalse(h.client.isReadingPaused, "reading resumes once the output drained")
        }
        XCTAssertNil(h.outcome)
    }

    func testEveryConnectionGetsTheQueueCap() throws {
        let cap = SessionHarness.bufferSize + Limits.queueHeadroom + 1000
        let h = try SessionHarness(limits: { $0.maxQueuedBytes = cap })
        h.relayAlice()
        XCTAssertEqual(h.run { h.client.maxQueuedBytes }, cap)
        XCTAssertEqual(h.run { h.backend.maxQueuedBytes }, cap)
    }

    func testAClientOverTheQueueCapEndsWithOutputOverflow() throws {
        // The budget would close first: lift it so the queue cap is what ends the session.
        let h = try SessionHarness(limits: { $0.maxPreauthCommands = 1_000_000 })
        h.start()
        h.run { h.client.holdsOutput = true }
        // A client that never reads and whose reads are not paused (a peer the kernel keeps feeding).
        var sent = 0
        while h.outcome == nil && sent < 100_000 {
            h.send(capability)
            sent += 1
        }
        XCTAssertEqual(h.outcome, .outputOverflow)
        XCTAssertEqual(h.logs.sessionLine?.metadata["outcome"], "output-overflow")
    }

    func testARelayedClientOverTheQueueCapEndsWithOutputOverflow() throws {
        let h = try SessionHarness()
        h.relayAlice()
        h.run { h.client.fail(.init(.outputOverflow, "more than 135168 bytes queued")) }
        XCTAssertEqual(h.outcome, .outputOverflow)
    }

    func testThePreauthBudgetReachesTheFrontEndOptions() throws {
        let h = try SessionHarness(limits: { $0.maxPreauthCommands = 7 })
        XCTAssertEqual(h.runtime.frontEndOptions(for: h.listener, tlsActive: false).maxPreauthCommands, 7)
    }

    func testAFrontEndCloseForTheBudgetHasItsOwnOutcome() throws {
        let script = ScriptedFrontEnd.Script()
        script.onReceive = [[.send(Array("* BYE Too many commands.\r\n".utf8)), .close]]
        script.closeReason = .preauthBudgetExceeded
        let h = try SessionHarness(frontEnd: ScriptedFrontEnd(script: script))
        h.start()
        h.send("a NOOP\r\n")
        XCTAssertEqual(h.outcome, .preauthCommandsExceeded)
        XCTAssertTrue(h.clientText.hasSuffix("* BYE Too many commands.\r\n"))
        XCTAssertTrue(h.run { h.client.finished }, "the farewell is delivered before the close")
        XCTAssertEqual(h.logs.sessionLine?.metadata["outcome"], "preauth-commands-exceeded")
    }

    func testOtherFrontEndClosesKeepTheirOutcomes() throws {
        let script = ScriptedFrontEnd.Script()
        script.onReceive = [[.close]]
        script.closeReason = .logout
        let h = try SessionHarness(frontEnd: ScriptedFrontEnd(script: script))
        h.start()
        h.send("a LOGOUT\r\n")
        XCTAssertEqual(h.outcome, .closedBeforeLogin)
    }

    func testAYieldResumesOnALaterTurnAndHoldsReadingUntilThen() throws {
        let script = ScriptedFrontEnd.Script()
        script.onReceive = [[.send(Array("1\r\n".utf8)), .yield]]
        script.onResume = [[.send(Array("2\r\n".utf8))]]
        let h = try SessionHarness(frontEnd: ScriptedFrontEnd(script: script))
        h.start()
        h.run {
            h.client.receive("many commands\r\n")
            XCTAssertEqual(script.resumes, 0, "not in the same turn")
            XCTAssertTrue(h.client.isReadingPaused)
        }
        h.run {
            XCTAssertEqual(script.resumes, 1)
            XCTAssertTrue(h.client.text.hasSuffix("1\r\n2\r\n"), h.client.text)
            XCTAssertFalse(h.client.isReadingPaused)
        }
    }

    func testAYieldWaitsWhileTheClientsOutputIsBacklogged() throws {
        let script = ScriptedFrontEnd.Script()
        let reply = [UInt8](repeating: 65, count: SessionHarness.bufferSize) + Array("\r\n".utf8)
        script.onReceive = [[.send(reply), .yield]]
        script.onResume = [[.send(Array("2\r\n".utf8))]]
        let h = try SessionHarness(frontEnd: ScriptedFrontEnd(script: script))
        h.start()
        h.run {
            h.client.holdsOutput = true
            h.client.receive("many commands\r\n")
        }
        h.run {}
        h.run {
            XCTAssertEqual(script.resumes, 0, "buffered commands wait while the client does not read")
            XCTAssertTrue(h.client.isReadingPaused)
            h.client.drain()
        }
        h.run {
            XCTAssertEqual(script.resumes, 1, "the drain queues the resume")
            XCTAssertTrue(h.client.text.hasSuffix("2\r\n"))
        }
        h.run { XCTAssertFalse(h.client.isReadingPaused) }
    }

    func testAYieldIsDroppedOnceTheSessionMovedOn() throws {
        let script = ScriptedFrontEnd.Script()
        let login = LoginRequest(credentials: .init(user: "alice", password: "pw"), mechanism: .login)
        script.onReceive = [[.yield], [.login(login)]]
        let h = try SessionHarness(frontEnd: ScriptedFrontEnd(script: script))
        h.start()
        h.run {
            h.client.receive("x\r\n")
            h.client.receive("y\r\n")
        }
        h.run {}
        XCTAssertEqual(h.run { script.resumes }, 0, "the resume was for the dialogue before the login")
        XCTAssertTrue(h.run { h.session.phaseIsRouting })
        XCTAssertTrue(h.run { h.client.isReadingPaused }, "the login still holds the reads")
        h.waitUntil("the lookup") { h.map.isWaiting(for: "alice") }
        h.map.answer("alice", with: nil)
        h.waitUntil("the answer") { !h.session.phaseIsRouting }
        // An unknown user's answer is held as long as a backend's rejection would take (0.5 s before any).
        h.fireTimers(after: 0.5)
        XCTAssertEqual(h.run { script.outcomes }, [.unknownUser])
        XCTAssertFalse(h.run { h.client.isReadingPaused }, "no stale yield keeps the client paused")
    }

    func testAYieldIsDroppedWhenTheSessionEnded() throws {
        let script = ScriptedFrontEnd.Script()
        script.onReceive = [[.yield]]
        let h = try SessionHarness(frontEnd: ScriptedFrontEnd(script: script))
        h.start()
        h.run {
            h.client.receive("x\r\n")
            h.session.shutdown()
        }
        h.run {}
        XCTAssertEqual(h.run { script.resumes }, 0)
    }
}
