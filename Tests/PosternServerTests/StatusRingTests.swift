import XCTest

@testable import PosternServer

/// The status page's ring, login counts and history: bounded, oldest first, differences by result.
final class StatusRingTests: XCTestCase {
    func testTheRingKeepsTheNewestElementsOldestFirst() {
        var ring = StatusRing<Int>(capacity: 3)
        XCTAssertEqual(ring.elements, [])
        XCTAssertNil(ring.last)
        ring.append(1)
        ring.append(2)
        XCTAssertEqual(ring.elements, [1, 2])
        for value in 3...7 { ring.append(value) }
        XCTAssertEqual(ring.elements, [5, 6, 7])
        XCTAssertEqual(ring.count, 3)
        XCTAssertEqual(ring.last, 7)
        XCTAssertEqual(StatusRing<Int>(capacity: 0).capacity, 1, "a ring holds at least one element")
    }

    func testTheHistoryHoldsFifteenMinutesOfFiveSecondSamples() {
        XCTAssertEqual(StatusHistory.capacity * StatusHistory.interval, 15 * 60)
        let history = StatusHistory(capacity: 2, startedAt: 100)
        for at in [105.0, 110, 115] { history.record(StatusSample(at: at, sessions: Int(at), logins: [:])) }
        XCTAssertEqual(history.samples.map(\.at), [110, 115])
        XCTAssertEqual(history.startedAt, 100)
    }

    func testLoginCountsDifferByResultAndNeverGoBelowZero() {
        var before = LoginCounts()
        before[.ok] = 5
        before[.rejected] = 2
        var after = before
        after[.ok] = 9
        after[.throttled] = 1
        let delta = after.since(before)
        XCTAssertEqual(delta[.ok], 4)
        XCTAssertEqual(delta[.rejected], 0)
        XCTAssertEqual(delta[.throttled], 1)
        XCTAssertEqual(delta.total, 5)
        XCTAssertEqual(delta.failed, 1)
        XCTAssertEqual(before.since(after)[.ok], 0, "a smaller total (a reset) counts as none")
        XCTAssertEqual(LoginCounts.sum([before, after])[.ok], 14)
        XCTAssertEqual(Set(delta.byLabel.keys), Set(LoginResult.allCases.map(\.rawValue)))
    }

    func testTheTallyCountsEachListenerAndResult() {
        let tally = LoginTally()
        tally.record(listener: "imap", result: .ok)
        tally.record(listener: "imap", result: .ok)
        tally.record(listener: "imap", result: .unknownUser)
        tally.record(listener: "pop3", result: .rejected)
        let counts = tally.snapshot()
        XCTAssertEqual(counts["imap"]?[.ok], 2)
        XCTAssertEqual(counts["imap"]?[.unknownUser], 1)
        XCTAssertEqual(counts["pop3"]?[.rejected], 1)
        XCTAssertNil(counts["sieve"])
    }

    func testTheTallyKeepsABoundedNumberOfListenerNames() {
        let tally = LoginTally()
        for index in 0..<(LoginTally.capacity + 10) { tally.record(listener: "l\(index)", result: .ok) }
        XCTAssertEqual(tally.snapshot().count, LoginTally.capacity)
        tally.record(listener: "l0", result: .ok)
        XCTAssertEqual(tally.snapshot()["l0"]?[.ok], 2, "a known name still counts once full")
    }

    func testTheRegistryKeepsTheLastConnectTimes() {
        let registry = BackendRegistry(clock: { 1000 })
        for index in 0..<(BackendRegistry.latencySamples + 5) {
            registry.recordConnectTime("10.0.0.1:143", seconds: Double(index))
        }
        let times = registry.records()["10.0.0.1:143"]?.connectSeconds.elements ?? []
        XCTAssertEqual(times.count, BackendRegistry.latencySamples)
        XCTAssertEqual(times.first, 5)
        XCTAssertEqual(times.last, Double(BackendRegistry.latencySamples + 4))
    }
}
