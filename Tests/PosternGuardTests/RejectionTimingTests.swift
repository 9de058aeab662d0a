import PosternGuard
import XCTest

/// The estimate of backend rejection times that answers without a backend are held to.
final class RejectionTimingTests: XCTestCase {
    func testBeforeAnyRejectionTheInitialEstimateApplies() {
        let timing = RejectionTiming(settings: .init(initial: 0.5, ceiling: 5))
        XCTAssertEqual(timing.hold(jitter: 0), 0.5)
        XCTAssertEqual(timing.hold(jitter: 1), 0.75)
        XCTAssertEqual(timing.hold(jitter: -1), 0.25)
    }

    func testTheFirstRejectionSetsTheEstimate() {
        let timing = RejectionTiming(settings: .init(initial: 0.5))
        timing.record(seconds: 0.02)
        XCTAssertEqual(timing.estimate, .init(mean: 0.02, deviation: 0.01, samples: 1))
        XCTAssertEqual(timing.hold(jitter: 0), 0.02, accuracy: 1e-12)
    }

    func testLaterRejectionsMoveTheMeanByAnEighthAndTheDeviationByAQuarter() {
        let timing = RejectionTiming()
        timing.record(seconds: 1.0)
        timing.record(seconds: 2.0)
        let estimate = timing.estimate
        XCTAssertEqual(estimate.mean, 1.125, accuracy: 1e-12)
        XCTAssertEqual(estimate.deviation, 0.5 + (1.0 - 0.5) / 4, accuracy: 1e-12)
        XCTAssertEqual(estimate.samples, 2)
    }

    func testASteadyBackendConvergesAndTheJitterNarrows() {
        let timing = RejectionTiming(settings: .init(initial: 0.5))
        for _ in 0..<100 { timing.record(seconds: 2.0) }
        XCTAssertEqual(timing.hold(jitter: 0), 2.0, accuracy: 1e-9)
        XCTAssertEqual(timing.hold(jitter: 1), 2.0, accuracy: 1e-6)
    }

    func testSamplesAndHoldsAreBoundedByTheCeiling() {
        let timing = RejectionTiming(settings: .init(initial: 0.5, ceiling: 3))
        timing.record(seconds: 60)
        XCTAssertEqual(timing.estimate.mean, 3)
        XCTAssertEqual(timing.hold(jitter: 1), 3)
        timing.record(seconds: -4)
        timing.record(seconds: .nan)
        XCTAssertEqual(timing.estimate.samples, 2, "a NaN is not a sample")
        XCTAssertGreaterThanOrEqual(timing.hold(jitter: -1), 0)
        XCTAssertEqual(
            timing.hold(jitter: .infinity), timing.hold(jitter: 0), "a jitter that is not finite counts as 0")
    }
}
