import PosternConfig
import PosternGuard
import XCTest

@testable import PosternServer

/// Login throttling in the session: a delayed login waits on a timer (never a blocked thread) before the
/// map is asked, a spent budget is answered without the backend, trusted addresses are exempt, and answers
/// that need no backend are held as long as a backend's rejection.
final class SessionThrottleTests: XCTestCase {
    /// alice logs in with `password` (tag `tag`), is routed and resolved, and the backend refuses.
    private func rejected(_ h: SessionHarness, tag: String, password: String) {
        h.send("\(tag) LOGIN alice \(password)\r\n")
        refuse(h, tag: tag)
    }

    /// The login in flight is routed and resolved, and the backend refuses it.
    private func refuse(_ h: SessionHarness, tag: String) {
        h.route("alice", to: ["a.example"])
        let index = h.run { h.dialler.resolves.count - 1 }
        h.run { h.dialler.answer(index, addresses: ["192.0.2.10"]) }
        let backend = h.backend
        h.run {
            backend.connect()
            backend.receive("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] ready\r\n")
            backend.receive("P1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n")
        }
        XCTAssertTrue(h.clientText.hasSuffix("\(tag) NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"))
    }

    private func paused(_ h: SessionHarness) -> LoginPause? {
        h.run {
            if case .paused(let pause) = h.session.phase { return pause }
            return nil
        }
    }

    func testAFailedLoginDelaysTheNextOnATimerBeforeTheMapIsAsked() throws {
        let h = try SessionHarness()
        h.start()
        rejected(h, tag: "a", password: "wrong-1")
        let asked = h.map.asked.count
        h.send("b LOGIN alice wrong-2\r\n")
        let pause = try XCTUnwrap(paused(h), "the second login waits")
        XCTAssertEqual(h.timer.deadlines, [pause.until])
        XCTAssertEqual(pause.until, h.clock.now() + 2_000_000_000, "auth_failure_delay.initial is 2 s")
        XCTAssertTrue(h.run { h.session.holdsCredentials }, "the waiting request keeps its credentials")
        XCTAssertTrue(h.run { h.client.isReadingPaused })
        XCTAssertEqual(h.fireTimers(after: 1.9), 0)
        XCTAssertEqual(h.map.asked.count, asked, "no lookup before the delay")
        XCTAssertEqual(h.fireTimers(after: 0.1), 1)
        XCTAssertTrue(h.run { h.session.phaseIsRouting })
        h.waitUntil("the second lookup") { h.map.isWaiting(for: "alice") }
    }

    func testTheDelaysDoubleAndATickAlsoLetsAWaitingLoginGo() throws {
        let h = try SessionHarness(limits: { $0.loginAttempts = 6 })
        h.start()
        rejected(h, tag: "a", password: "wrong-1")
        var waits: [UInt64] = []
        for (tag, step) in [("b", 2.0), ("c", 4.0), ("d", 8.0), ("e", 15.0)] {
            h.send("\(tag) LOGIN alice wrong-\(tag)\r\n")
            let pause = try XCTUnwrap(paused(h), tag)
            waits.append(pause.until - h.clock.now())
            h.advance(step)
            XCTAssertTrue(h.run { h.session.phaseIsRouting }, "the tick let \(tag) go")
            refuse(h, tag: tag)
        }
        XCTAssertEqual(waits, [2, 4, 8, 15].map { UInt64($0) * 1_000_000_000 })
    }

    func testATimerOfAnOlderAttemptDoesNothing() throws {
        let h = try SessionHarness()
        h.start()
        rejected(h, tag: "a", password: "wrong-1")
        h.send("b LOGIN alice wrong-2\r\n")
        let pause = try XCTUnwrap(paused(h))
        h.run { h.session.pauseDue(generation: pause.generation - 1, now: pause.until) }
        XCTAssertNotNil(paused(h), "a stale timer leaves the wait alone")
        h.run { h.session.pauseDue(generation: pause.generation, now: pause.until - 1) }
        XCTAssertNotNil(paused(h), "an early timer leaves the wait alone")
    }

    func testALoginTimeoutDuringTheWaitEndsTheSession() throws {
        let h = try SessionHarness(limits: { $0.loginTimeout = 1 })
        h.start()
        rejected(h, tag: "a", password: "wrong-1")
        h.send("b LOGIN alice wrong-2\r\n")
        XCTAssertNotNil(paused(h))
        h.advance(1.5)
        XCTAssertEqual(h.outcome, .loginTimeout)
        XCTAssertFalse(h.run { h.session.holdsCredentials })
        h.run { h.timer.fire(upTo: h.clock.now() + 10_000_000_000) }
        XCTAssertEqual(h.outcome, .loginTimeout, "the timer of an ended session does nothing")
    }

    func testATrustedAddressIsNeverDelayed() throws {
        let h = try SessionHarness(limits: { $0.trustedNetworks = NetworkSet(parsing: ["192.0.2.0/24"])! })
        h.start()
        rejected(h, tag: "a", password: "wrong-1")
        h.send("b LOGIN alice wrong-2\r\n")
        XCTAssertTrue(h.run { h.session.phaseIsRouting }, "routed at once")
        XCTAssertEqual(h.timer.deadlines, [])
    }

    func testNoDelayWhenThrottlingIsOff() throws {
        let h = try SessionHarness(limits: { $0.authFailureDelay = AuthFailureDelay(initial: 0, max: 15) })
        h.start()
        rejected(h, tag: "a", password: "wrong-1")
        h.send("b LOGIN alice wrong-2\r\n")
        XCTAssertTrue(h.run { h.session.phaseIsRouting })
    }

    func testFailuresFromAnotherAddressDoNotDelayThisOne() throws {
        let clock = ManualClock()
        let guards = SessionGuards(limits: Limits(), clock: SessionMapClock(clock: clock), jitter: { 0 })
        let attacker = try SessionHarness(guards: guards, clock: clock, peer: "203.0.113.66")
        attacker.start()
        rejected(attacker, tag: "a", password: "guess-1")
        let alice = try SessionHarness(guards: guards, clock: clock)
        alice.start()
        alice.loginAlice()
        XCTAssertTrue(alice.run { alice.session.phaseIsRouting }, "alice at home is not delayed")
        attacker.send("b LOGIN alice guess-2\r\n")
        XCTAssertNotNil(paused(attacker), "the attacker is")
    }

    func testASpentBudgetIsAnsweredWithoutTheBackend() throws {
        let h = try SessionHarness()
        let client = IPAddress("192.0.2.7")!
        for guess in 1...10 {
            _ = h.guards.throttle.recordFailure(user: "alice", secret: Array("guess-\(guess)".utf8), client: client)
        }
        h.start()
        h.loginAlice()
        let pause = try XCTUnwrap(paused(h))
        XCTAssertFalse(pause.holdsCredentials, "the refused request is not kept")
        XCTAssertEqual(pause.until, h.clock.now() + 15_000_000_000, "held for auth_failure_delay.max")
        XCTAssertEqual(h.fireTimers(after: 15), 1)
        XCTAssertTrue(h.clientText.hasSuffix("a NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"), h.clientText)
        XCTAssertEqual(h.map.asked, [], "the map (and so the backend) never saw the login")
    }

    func testAnUnknownUserIsAnsweredNoSoonerThanABackendRejection() throws {
        let h = try SessionHarness()
        h.guards.rejections.record(seconds: 0.3)
        h.start()
        h.send("a LOGIN nobody pw\r\n")
        h.waitUntil("the lookup") { h.map.isWaiting(for: "nobody") }
        h.run { h.clock.advance(0.1) }
        h.map.answer("nobody", with: nil)
        h.waitUntil("the answer") { !h.session.phaseIsRouting }
        let pause = try XCTUnwrap(paused(h))
        XCTAssertFalse(h.clientText.contains("a NO"), "not answered yet")
        XCTAssertEqual(h.fireTimers(after: 0.19), 0)
        XCTAssertEqual(h.fireTimers(after: 0.01), 1)
        XCTAssertTrue(h.clientText.hasSuffix("a NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"), h.clientText)
        XCTAssertEqual(pause.until, h.clock.now(), "0.3 s after the lookup began")
        // It counted as a failed login: the next login waits like one after a wrong password.
        h.send("b LOGIN nobody pw2\r\n")
        XCTAssertNotNil(paused(h))
    }

    func testABackendRejectionTeachesTheTimingAndCountsAsAFailure() throws {
        let h = try SessionHarness()
        h.start()
        h.loginAlice()
        h.route("alice", to: ["a.example"])
        h.run { h.clock.advance(0.25) }
        h.run { h.dialler.answer(0, addresses: ["192.0.2.10"]) }
        let backend = h.backend
        h.run {
            backend.connect()
            backend.receive("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] ready\r\n")
            backend.receive("P1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n")
        }
        XCTAssertEqual(h.guards.rejections.estimate.samples, 1)
        XCTAssertEqual(h.guards.rejections.estimate.mean, 0.25, accuracy: 0.001)
        XCTAssertEqual(h.guards.throttle.delay(for: IPAddress("192.0.2.7")!), 2)
    }

    func testAnUnavailableBackendIsNotAFailedLogin() throws {
        let h = try SessionHarness()
        h.start()
        h.loginAlice()
        h.route("alice", to: ["a.example"])
        h.run { h.dialler.answer(0, .failure(.init(.resolution, "no such host"))) }
        XCTAssertTrue(h.clientText.contains("a NO [UNAVAILABLE]"), h.clientText)
        XCTAssertEqual(h.guards.throttle.delay(for: IPAddress("192.0.2.7")!), 0)
        XCTAssertEqual(h.guards.rejections.estimate.samples, 0)
    }

    func testRepeatingTheSameWrongPasswordDoesNotEscalate() throws {
        let h = try SessionHarness()
        h.start()
        rejected(h, tag: "a", password: "stale-pw")
        h.send("b LOGIN alice stale-pw\r\n")
        h.fireTimers(after: 2)
        refuse(h, tag: "b")
        XCTAssertEqual(h.guards.throttle.delay(for: IPAddress("192.0.2.7")!), 2, "still the first step")
    }
}
