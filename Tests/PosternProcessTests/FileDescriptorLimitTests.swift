import Glibc
import PosternProcess
import XCTest

/// RLIMIT_NOFILE: the formula, the raise to the hard limit, the comparison with what is needed.
final class FileDescriptorLimitTests: XCTestCase {
    func testNeededIsTwoPerSessionPlus64() {
        XCTAssertEqual(FileDescriptorLimit.needed(maxSessions: 0), 64)
        XCTAssertEqual(FileDescriptorLimit.needed(maxSessions: 10_000), 20_064)
        XCTAssertEqual(FileDescriptorLimit.needed(maxSessions: -3), 64)
    }

    func testRaiseLiftsTheSoftLimitToTheHardLimit() throws {
        var before = rlimit()
        XCTAssertEqual(getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &before), 0)
        let limit = try FileDescriptorLimit.raise(maxSessions: 100)
        XCTAssertGreaterThanOrEqual(limit.soft, UInt64(before.rlim_cur))
        XCTAssertEqual(limit.hard, UInt64(before.rlim_max))
        if before.rlim_max != rlim_t.max { XCTAssertEqual(limit.soft, limit.hard) }
        XCTAssertEqual(limit.needed, 264)
        XCTAssertEqual(try FileDescriptorLimit.current(maxSessions: 100), limit)
    }

    func testSufficiencyComparesTheSoftLimitWithTheNeed() throws {
        XCTAssertTrue(FileDescriptorLimit(soft: 20_064, hard: 20_064, needed: 20_064).isSufficient)
        XCTAssertFalse(FileDescriptorLimit(soft: 1024, hard: 4096, needed: 20_064).isSufficient)
        let huge = try FileDescriptorLimit.current(maxSessions: Int(Int32.max))
        XCTAssertFalse(huge.isSufficient)
    }
}
