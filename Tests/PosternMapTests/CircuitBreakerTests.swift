import PosternMap
import XCTest

/// The circuit breaker shared by sessions: opens after failures, skips while open, closes on success.
final class CircuitBreakerTests: XCTestCase {
    private let clock = ManualClock()

    func testOpensAfterTheThresholdAndClosesAfterTheBackoff() {
        let breaker = CircuitBreaker(failures: 2, backoff: 30, clock: clock)
        XCTAssertEqual(breaker.verdict("a:143"), .closed)
        XCTAssertFalse(breaker.recordFailure("a:143"))
        XCTAssertEqual(breaker.verdict("a:143"), .closed)
        XCTAssertTrue(breaker.recordFailure("a:143"))
        XCTAssertEqual(breaker.verdict("a:143"), .open(until: clock.now() + 30))
        XCTAssertEqual(breaker.remaining("a:143"), 30)
        XCTAssertEqual(breaker.verdict("b:143"), .closed)
        clock.advance(29.9)
        XCTAssertNotEqual(breaker.verdict("a:143"), .closed)
        clock.advance(0.2)
        XCTAssertEqual(breaker.verdict("a:143"), .closed)
        // Half-open: one more failure opens it again at once (the count was not reset).
        XCTAssertTrue(breaker.recordFailure("a:143"))
        XCTAssertNotEqual(breaker.verdict("a:143"), .closed)
    }

    func testASuccessClosesAndResetsTheCount() {
        let breaker = CircuitBreaker(failures: 2, backoff: 30, clock: clock)
        breaker.recordFailure("a:143")
        breaker.recordSuccess("a:143")
        XCTAssertFalse(breaker.recordFailure("a:143"))
        XCTAssertEqual(breaker.verdict("a:143"), .closed)
    }

    func testSkipOnlyWhenAnotherCandidateIsAvailable() {
        let breaker = CircuitBreaker(failures: 1, backoff: 30, clock: clock)
        breaker.recordFailure("a:143")
        XCTAssertTrue(breaker.shouldSkip("a:143", remaining: ["b:143"]))
        XCTAssertFalse(breaker.shouldSkip("a:143", remaining: []))
        breaker.recordFailure("b:143")
        // Everything is open: try it anyway rather than refusing the user.
        XCTAssertFalse(breaker.shouldSkip("a:143", remaining: ["b:143"]))
        XCTAssertFalse(breaker.shouldSkip("c:143", remaining: ["a:143"]))
    }

    func testZeroBackoffTurnsItOff() {
        let breaker = CircuitBreaker(failures: 1, backoff: 0, clock: clock)
        XCTAssertFalse(breaker.recordFailure("a:143"))
        XCTAssertEqual(breaker.verdict("a:143"), .closed)
    }
}
