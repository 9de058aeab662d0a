import Glibc
import PosternIO
import PosternMap
import XCTest

@testable import PosternServer

/// The backend dialler: candidates in order behind the circuit breaker, a deadline per step (connect per
/// address, greeting, login), and local failures that are nobody's fault but ours.
final class BackendFailoverTests: XCTestCase {
    private let timeout = SessionHarness.connectTimeout

    private func breakerIsOpen(_ h: SessionHarness, _ label: String) -> Bool {
        if case .open = h.runtime.breaker.verdict(label) { return true }
        return false
    }

    func testAnOpenBreakerIsSkippedAndFailuresGoToTheNextCandidateInOrder() throws {
        let h = try SessionHarness()
        h.runtime.breaker.recordFailure("a.example:143")
        h.start()
        h.loginAlice()
        h.route("alice", to: ["a.example", "b.example", "c.example:1143"])
        XCTAssertEqual(h.run { h.dialler.resolvedHosts }, ["b.example"], "a's breaker is open")
        h.run { h.dialler.answer(0, addresses: ["192.0.2.11"]) }
        let b = h.backend
        h.run { b.fail(IOError(.refused, "connect: Connection refused", code: ECONNREFUSED)) }
        XCTAssertTrue(breakerIsOpen(h, "b.example:143"))
        XCTAssertEqual(h.run { h.dialler.resolvedHosts }, ["b.example", "c.example"])
        XCTAssertEqual(h.run { h.dialler.resolves[1].port }, 1143)
        h.run { h.dialler.answer(1, addresses: ["192.0.2.12"], port: 1143) }
        h.backendAccepts(h.backend)
        XCTAssertTrue(h.run { h.session.phaseIsRelaying })
        XCTAssertTrue(h.clientText.contains("a OK [CAPABILITY IMAP4rev1 IDLE] Logged in"), h.clientText)
        XCTAssertEqual(h.run { h.dialler.connectAttempts }, ["192.0.2.11:143", "192.0.2.12:1143"])
        h.run { h.session.shutdown() }
        XCTAssertEqual(h.logs.sessionLine?.metadata["backend"], "c.example:1143")
        XCTAssertEqual(h.logs.sessionLine?.metadata["route"], "test map")
    }

    func testABackendThatNeverGreetsFailsOverAndCountsAgainstItsBreaker() throws {
        let h = try SessionHarness()
        h.start()
        h.loginAlice()
        h.route("alice", to: ["a.example", "b.example"])
        h.run { h.dialler.answer(0, addresses: ["192.0.2.10"]) }
        let a = h.backend
        h.run { a.connect() }
        h.advance(timeout - 1)
        XCTAssertFalse(h.run { a.isClosed })
        XCTAssertFalse(breakerIsOpen(h, "a.example:143"), "accepting the connection is not enough")
        h.advance(2)
        XCTAssertTrue(h.run { a.isClosed })
        XCTAssertTrue(breakerIsOpen(h, "a.example:143"))
        XCTAssertEqual(h.run { h.dialler.resolvedHosts }, ["a.example", "b.example"])
        // b is silent too: the client hears at once that no backend is available.
        h.run { h.dialler.answer(1, addresses: ["192.0.2.11"]) }
        h.run { h.backend.connect() }
        h.advance(timeout + 1)
        XCTAssertTrue(h.clientText.contains("a NO [UNAVAILABLE]"), h.clientText)
        let warning = h.logs.lines.last { $0.message == "backend unavailable" }
        XCTAssertEqual(warning?.metadata["error"], "no greeting: timed out after \(timeout) s")
        XCTAssertNil(h.outcome, "the client may try again")
    }

    func testABackendThatStallsInTheLoginFailsOver() throws {
        let h = try SessionHarness()
        h.start()
        h.loginAlice()
        h.route("alice", to: ["a.example", "b.example"])
        h.run { h.dialler.answer(0, addresses: ["192.0.2.10"]) }
        let a = h.backend
        h.run {
            a.connect()
            a.receive("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] ready\r\n")
        }
        XCTAssertFalse(breakerIsOpen(h, "a.example:143"))
        h.advance(timeout + 1)
        XCTAssertTrue(h.run { a.isClosed })
        XCTAssertTrue(breakerIsOpen(h, "a.example:143"))
        XCTAssertEqual(h.run { h.dialler.resolvedHosts }, ["a.example", "b.example"])
    }

    func testTheConnectDeadlineIsPerAddress() throws {
        let h = try SessionHarness()
        h.start()
        h.loginAlice()
        h.route("alice", to: ["a.example"])
        h.run { h.dialler.answer(0, addresses: ["2001:db8::10", "192.0.2.10"]) }
        let first = h.backend
        h.advance(timeout - 1)
        XCTAssertFalse(h.run { first.isClosed })
        h.advance(2)
        XCTAssertTrue(h.run { first.isClosed })
        XCTAssertEqual(h.run { h.dialler.connectAttempts }, ["[2001:db8::10]:143", "192.0.2.10:143"])
        let second = h.backend
        // The second address has its full deadline, not what the first one left.
        h.advance(timeout - 1)
        XCTAssertFalse(h.run { second.isClosed })
        h.backendAccepts(second)
        XCTAssertTrue(h.run { h.session.phaseIsRelaying })
        XCTAssertFalse(breakerIsOpen(h, "a.example:143"))
    }

    func testALateConnectOfAnAbandonedAddressIsClosed() throws {
        let h = try SessionHarness()
        h.start()
        h.loginAlice()
        h.route("alice", to: ["a.example"])
        h.run { h.dialler.answer(0, addresses: ["2001:db8::10", "192.0.2.10"]) }
        let first = h.backend
        h.advance(timeout + 1)
        let dialler = try XCTUnwrap(h.run { h.session.dialler })
        // The abandoned connection reports in anyway: the dialler must not adopt it.
        h.run { dialler.connectionConnected(first) }
        XCTAssertTrue(h.run { first.isClosed })
        h.run { if case .connecting(_, let current, _, _) = dialler.step { XCTAssertTrue(current !== first) } }
    }

    func testEMFILEFromConnectIsLocalAndEndsTheAttemptAtOnce() throws {
        let h = try SessionHarness()
        h.start()
        h.loginAlice()
        h.route("alice", to: ["a.example", "b.example"])
        h.run {
            h.dialler.connectErrors["192.0.2.10:143"] = IOError.errno("socket", EMFILE)
            h.dialler.answer(0, addresses: ["192.0.2.10"])
        }
        XCTAssertTrue(h.clientText.contains("a NO [UNAVAILABLE]"), h.clientText)
        XCTAssertFalse(breakerIsOpen(h, "a.example:143"), "our descriptor shortage is not the backend's fault")
        XCTAssertEqual(h.run { h.dialler.resolvedHosts }, ["a.example"], "no other backend is tried")
        XCTAssertEqual(h.run { h.dialler.connections.count }, 0)
        XCTAssertNil(h.outcome)
        let warning = h.logs.lines.last { $0.message == "backend unavailable" }
        XCTAssertTrue(
            warning?.metadata["error"]?.hasPrefix("local: socket: ") == true, "\(String(describing: warning))")
    }

    func testARefusedAddressTriesTheNextAddressOfTheSameBackend() throws {
        let h = try SessionHarness()
        h.start()
        h.loginAlice()
        h.route("alice", to: ["a.example", "b.example"])
        h.run {
            h.dialler.connectErrors["[2001:db8::10]:143"] = IOError(.unreachable, "connect: Network is unreachable")
            h.dialler.answer(0, addresses: ["2001:db8::10", "192.0.2.10"])
        }
        XCTAssertEqual(h.run { h.dialler.connectAttempts }, ["[2001:db8::10]:143", "192.0.2.10:143"])
        XCTAssertEqual(h.run { h.dialler.resolvedHosts }, ["a.example"])
        h.backendAccepts(h.backend)
        XCTAssertTrue(h.run { h.session.phaseIsRelaying })
    }
}
