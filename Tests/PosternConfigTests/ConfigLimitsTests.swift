import Foundation
import XCTest

@testable import PosternConfig

/// The session-bound keys of `limits:`: the output cap, the pre-login command budget and TCP keepalive.
final class ConfigLimitsTests: XCTestCase {
    func testDefaults() throws {
        let fixture = try ConfigFixture()
        let config = try ConfigLoader.load(path: try fixture.write(plainListener))
        XCTAssertEqual(config.limits.maxQueuedBytes, 1_048_576)
        XCTAssertEqual(config.limits.maxPreauthCommands, 50)
        XCTAssertTrue(config.limits.tcpKeepalive)
        XCTAssertEqual(config.limits.tcpKeepaliveIdle, 120)
    }

    func testValuesAreRead() throws {
        let fixture = try ConfigFixture()
        let config = try ConfigLoader.load(
            path: try fixture.write(
                plainListener + """
                    limits:
                      buffer_size: 8192
                      max_queued_bytes: 139264
                      max_preauth_commands: 7
                      tcp_keepalive: false
                      tcp_keepalive_idle: 30
                    """))
        XCTAssertEqual(config.limits.maxQueuedBytes, 8192 + 131_072)
        XCTAssertEqual(config.limits.maxPreauthCommands, 7)
        XCTAssertFalse(config.limits.tcpKeepalive)
        XCTAssertEqual(config.limits.tcpKeepaliveIdle, 30)
    }

    func testWithoutTheKeyTheCapGrowsWithALargeBufferSize() throws {
        let fixture = try ConfigFixture()
        let config = try ConfigLoader.load(
            path: try fixture.write(
                plainListener + """
                    limits:
                      buffer_size: 4194304
                    """))
        XCTAssertEqual(config.limits.maxQueuedBytes, 4_194_304 + 131_072)
    }

    func testCapBelowBufferSizePlusHeadroomIsRefusedWithItsLine() throws {
        let issues = try ConfigFixture().issues(
            plainListener + """
                limits:
                  buffer_size: 65536
                  max_queued_bytes: 100000
                """)
        XCTAssertEqual(issues.count, 1)
        assertIssue(
            issues, line: 8, key: "limits.max_queued_bytes",
            contains: "100000 is too small: must be at least buffer_size + 131072 (196608)")
    }

    func testBadValues() throws {
        let issues = try ConfigFixture().issues(
            plainListener + """
                limits:
                  max_preauth_commands: 0
                  tcp_keepalive: sometimes
                  tcp_keepalive_idle: 40000
                  max_queued_bytes: 2.5
                """)
        XCTAssertEqual(issues.count, 4)
        assertIssue(issues, line: 7, key: "limits.max_preauth_commands", contains: "must be 1...1000000")
        assertIssue(issues, line: 8, key: "limits.tcp_keepalive", contains: "expected true or false")
        assertIssue(issues, line: 9, key: "limits.tcp_keepalive_idle", contains: "must be 1...32767")
        assertIssue(issues, line: 10, key: "limits.max_queued_bytes", contains: "expected an integer")
    }
}
