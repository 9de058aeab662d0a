import PosternConfig
import PosternGuard
import XCTest

@testable import PosternServer

/// The connection limits in the session: the protocol's refusal and a close for the excess connection,
/// the place given back once at the end, the not-logged-in count left at login, `max_sessions_per_user`
/// at login, and the client TLS handshake deadline.
final class SessionLimitsTests: XCTestCase {
    private func guards(_ adjust: (inout Limits) -> Void, clock: ManualClock) -> SessionGuards {
        var limits = Limits()
        adjust(&limits)
        return SessionGuards(limits: limits, clock: SessionMapClock(clock: clock), jitter: { 0 })
    }

    func testTheConnectionOverThePerAddressLimitIsRefusedAndOthersStillConnect() throws {
        let clock = ManualClock()
        let shared = guards({ $0.maxConnectionsPerIP = 1 }, clock: clock)
        let first = try SessionHarness(guards: shared, clock: clock)
        first.start()
        XCTAssertTrue(first.clientText.hasPrefix("* OK"))
        let second = try SessionHarness(guards: shared, clock: clock)
        second.start()
        XCTAssertEqual(second.outcome, .tooManyConnections)
        XCTAssertEqual(second.clientText, "* BYE Too many connections, try again later.\r\n")
        XCTAssertTrue(second.run { second.client.finished }, "closed after the refusal is written")
        XCTAssertEqual(second.logs.sessionLine?.metadata["outcome"], "too-many-connections")
        XCTAssertEqual(
            second.logs.sessionLine?.metadata["detail"], "max_connections_per_ip (1) reached for 192.0.2.7")
        let other = try SessionHarness(guards: shared, clock: clock, peer: "192.0.2.8")
        other.start()
        XCTAssertTrue(other.clientText.hasPrefix("* OK"), "another address still connects")
        XCTAssertEqual(shared.limiter.counts.connections, 2, "the refused one is not counted")
    }

    func testTheGlobalLimitRefusesEveryAddress() throws {
        let clock = ManualClock()
        let shared = guards({ $0.maxConnections = 1 }, clock: clock)
        let first = try SessionHarness(guards: shared, clock: clock)
        first.start()
        let other = try SessionHarness(guards: shared, clock: clock, peer: "192.0.2.8")
        other.start()
        XCTAssertEqual(other.outcome, .tooManyConnections)
        XCTAssertEqual(other.logs.sessionLine?.metadata["detail"], "max_connections (1) reached")
    }

    func testAnImplicitTLSConnectionIsClosedWithoutAWord() throws {
        let clock = ManualClock()
        let shared = guards({ $0.maxConnectionsPerIP = 1 }, clock: clock)
        let first = try SessionHarness(tls: .implicit, guards: shared, clock: clock)
        first.start()
        let second = try SessionHarness(tls: .implicit, guards: shared, clock: clock)
        second.start()
        XCTAssertEqual(second.outcome, .tooManyConnections)
        second.run {
            XCTAssertTrue(second.client.written.isEmpty)
            XCTAssertEqual(second.client.tlsStarts.count, 0, "no handshake is started")
            XCTAssertTrue(second.client.isClosed)
        }
    }

    func testThePlaceIsGivenBackOnceWhenTheSessionEnds() throws {
        let clock = ManualClock()
        let shared = guards({ $0.maxConnectionsPerIP = 1 }, clock: clock)
        let first = try SessionHarness(guards: shared, clock: clock)
        first.start()
        first.run { first.session.shutdown() }
        XCTAssertEqual(shared.limiter.counts, .init(connections: 0, preauth: 0, sessions: 0))
        first.run {
            first.session.releaseConnectionSlot()
            first.session.end(.shutdown)
        }
        XCTAssertEqual(shared.limiter.counts.connections, 0, "never below zero")
        let second = try SessionHarness(guards: shared, clock: clock)
        second.start()
        XCTAssertTrue(second.clientText.hasPrefix("* OK"))
        second.run { second.session.shutdown() }
        XCTAssertEqual(shared.limiter.counts.connections, 0)
    }

    func testALoginLeavesTheNotLoggedInCount() throws {
        let clock = ManualClock()
        let shared = guards({ $0.maxPreauthPerIP = 1 }, clock: clock)
        let first = try SessionHarness(guards: shared, clock: clock)
        first.relayAlice()
        let counts = shared.limiter.counts(for: IPAddress("192.0.2.7")!)
        XCTAssertEqual(counts.connections, 1)
        XCTAssertEqual(counts.preauth, 0)
        let second = try SessionHarness(guards: shared, clock: clock)
        second.start()
        XCTAssertTrue(second.clientText.hasPrefix("* OK"), "the logged-in session holds no pre-login place")
        let third = try SessionHarness(guards: shared, clock: clock)
        third.start()
        XCTAssertEqual(third.outcome, .tooManyConnections)
        XCTAssertEqual(third.logs.sessionLine?.metadata["detail"], "max_preauth_per_ip (1) reached for 192.0.2.7")
    }

    func testTheLoginOverMaxSessionsPerUserGetsANoAndTheBackendIsClosed() throws {
        let clock = ManualClock()
        let shared = guards({ $0.maxSessionsPerUser = 1 }, clock: clock)
        let first = try SessionHarness(guards: shared, clock: clock)
        first.relayAlice()
        let second = try SessionHarness(guards: shared, clock: clock, peer: "192.0.2.8")
        second.start()
        second.loginAlice()
        second.route("alice", to: ["a.example"])
        second.run { second.dialler.answer(0, addresses: ["192.0.2.10"]) }
        let backend = second.backend
        second.backendAccepts(backend)
        XCTAssertTrue(
            second.clientText.hasSuffix("a NO [UNAVAILABLE] Too many sessions for this user, try again later.\r\n"),
            second.clientText)
        second.run {
            XCTAssertTrue(backend.isClosed)
            XCTAssertFalse(second.session.phaseIsRelaying)
            XCTAssertFalse(second.session.holdsCredentials)
            XCTAssertFalse(second.client.isReadingPaused, "the client may go on")
        }
        XCTAssertEqual(shared.limiter.sessions(of: "alice"), 1)
        XCTAssertEqual(shared.limiter.counts(for: IPAddress("192.0.2.8")!).preauth, 1, "still not logged in")
        first.run { first.session.shutdown() }
        XCTAssertEqual(shared.limiter.sessions(of: "alice"), 0, "the first session's end gives its place back")
    }

    func testAnImplicitHandshakeOverTheDeadlineEndsTheSession() throws {
        let h = try SessionHarness(tls: .implicit, limits: { $0.tlsHandshakeTimeout = 10 })
        h.start()
        h.advance(10)
        XCTAssertNil(h.outcome, "10 s are allowed")
        h.advance(0.5)
        XCTAssertEqual(h.outcome, .tlsHandshakeTimeout)
        h.run {
            XCTAssertTrue(h.client.written.isEmpty)
            XCTAssertFalse(h.client.finished, "a handshaking connection is closed, not finished")
            XCTAssertTrue(h.client.isClosed)
        }
        XCTAssertEqual(h.logs.sessionLine?.metadata["outcome"], "tls-handshake-timeout")
    }

    func testAStartTLSHandshakeHasItsOwnDeadline() throws {
        let h = try SessionHarness(tls: .starttls, limits: { $0.tlsHandshakeTimeout = 5 })
        h.start()
        h.advance(30)
        h.send("a STARTTLS\r\n")
        let before = h.clientText
        h.advance(5.5)
        XCTAssertEqual(h.outcome, .tlsHandshakeTimeout, "counted from the STARTTLS, not from the connect")
        XCTAssertEqual(h.clientText, before, "no text into the handshake")
    }

    func testAFinishedHandshakeIsNoLongerTimed() throws {
        let h = try SessionHarness(tls: .implicit, limits: { $0.tlsHandshakeTimeout = 5 })
        h.start()
        h.run { h.client.establishTLS() }
        h.advance(6)
        XCTAssertNil(h.outcome)
    }
}
