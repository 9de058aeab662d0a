import XCTest

@testable import PosternLog

/// RFC 3339 UTC timestamps with milliseconds, as the log lines and the admin API's JSON write them.
final class LogTimestampTests: XCTestCase {
    func testKnownInstants() {
        XCTAssertEqual(LogTimestamp.string(secondsSinceEpoch: 0), "1970-01-01T00:00:00.000Z")
        XCTAssertEqual(LogTimestamp.string(secondsSinceEpoch: 1_796_272_168.123), "2026-12-03T04:29:28.123Z")
        XCTAssertEqual(LogTimestamp.string(secondsSinceEpoch: 951_782_400.5), "2000-02-29T00:00:00.500Z")
        XCTAssertEqual(LogTimestamp.string(secondsSinceEpoch: 4_102_444_799.999), "2099-12-31T23:59:59.999Z")
    }

    func testTheNearestMillisecondCarriesIntoTheNextSecond() {
        XCTAssertEqual(LogTimestamp.string(secondsSinceEpoch: 59.9996), "1970-01-01T00:01:00.000Z")
        XCTAssertEqual(LogTimestamp.string(secondsSinceEpoch: 59.9994), "1970-01-01T00:00:59.999Z")
    }

    func testBeforeTheEpoch() {
        XCTAssertEqual(LogTimestamp.string(secondsSinceEpoch: -0.25), "1969-12-31T23:59:59.750Z")
    }
}
