import Logging
import PosternMap
import XCTest

@testable import PosternServer

/// Drained backends: tried after a route's other candidates, kept for a route that has nothing else,
/// remembered by the server-wide registry.
final class DrainTests: XCTestCase {
    private func order(_ servers: [String], drained: Set<String>) throws -> [String] {
        let h = try SessionHarness()
        var candidates = servers.map { BackendAddress.parse($0)! }
        h.runtime.deferDrainedBackends(
            &candidates, drained: drained, defaultPort: 143, session: "t", logger: Logger(label: "test"))
        return candidates.map(\.description)
    }

    func testDrainedCandidatesGoLastAndARouteOfDrainedOnesKeepsItsOrder() throws {
        XCTAssertEqual(
            try order(["a.example", "b.example", "c.example:1143"], drained: ["a.example:143"]),
            ["b.example", "c.example:1143", "a.example"])
        XCTAssertEqual(
            try order(["a.example", "b.example"], drained: ["a.example:143", "b.example:143"]),
            ["a.example", "b.example"])
        XCTAssertEqual(try order(["A.example", "b.example"], drained: ["a.example:143"]), ["b.example", "A.example"])
        XCTAssertEqual(
            try order(["a.example:1143", "b.example"], drained: ["a.example:143"]), ["a.example:1143", "b.example"])
    }

    func testALoginSkipsADrainedBackendForTheOtherCandidate() throws {
        let h = try SessionHarness()
        XCTAssertTrue(h.backends.drain("a.example:143"))
        XCTAssertFalse(h.backends.drain("a.example:143"))
        h.start()
        h.loginAlice()
        h.route("alice", to: ["a.example", "b.example"])
        XCTAssertEqual(h.run { h.dialler.resolvedHosts }, ["b.example"])
        h.run { h.dialler.answer(0, addresses: ["192.0.2.11"]) }
        h.backendAccepts(h.backend)
        XCTAssertTrue(h.run { h.session.phaseIsRelaying })
        XCTAssertEqual(h.backends.drained, ["a.example:143"])
        XCTAssertTrue(h.backends.undrain("a.example:143"))
        XCTAssertEqual(h.backends.drained, [])
    }

    func testTheRegistryKeepsRecentConnectFailuresOnly() {
        let clock = TestWallClock(now: 1000)
        let registry = BackendRegistry(clock: { clock.now })
        registry.recordFailure("a:1", error: "refused")
        clock.now = 1200
        registry.recordFailure("a:1", error: "timed out")
        registry.recordSuccess("b:1")
        var records = registry.records()
        XCTAssertEqual(records["a:1"]?.failures, [1000, 1200])
        XCTAssertEqual(records["a:1"]?.lastError, "timed out")
        XCTAssertEqual(records["b:1"]?.lastSuccessAt, 1200)
        clock.now = 1000 + BackendRegistry.failureWindow + 1
        records = registry.records()
        XCTAssertEqual(records["a:1"]?.failures, [1200], "failures older than the window are not recent")
    }
}

/// A wall clock the test moves (Unix seconds).
final class TestWallClock: @unchecked Sendable {
    var now: Double
    init(now: Double) { self.now = now }
}
