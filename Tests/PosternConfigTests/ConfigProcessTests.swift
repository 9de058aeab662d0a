import Foundation
import XCTest

@testable import PosternConfig

/// The process keys: `server.pid_file`, `server.user`, `server.group` and `shutdown.drain_seconds`.
final class ConfigProcessTests: XCTestCase {
    func testDefaults() throws {
        let fixture = try ConfigFixture()
        let config = try ConfigLoader.load(path: try fixture.write(plainListener))
        XCTAssertNil(config.server.pidFile)
        XCTAssertNil(config.server.user)
        XCTAssertNil(config.server.group)
        XCTAssertEqual(config.shutdown.drainSeconds, 30)
        XCTAssertEqual(config.shutdown.loginGraceSeconds, 2)
    }

    func testValuesAreReadAndThePidFileIsResolvedAgainstTheConfigFolder() throws {
        let fixture = try ConfigFixture()
        let config = try ConfigLoader.load(
            path: try fixture.write(
                plainListener + """
                    server:
                      pid_file: run/postern.pid
                      user: postern
                      group: "998"
                    shutdown:
                      drain_seconds: 2.5
                      login_grace_seconds: 4
                    """))
        XCTAssertEqual(config.server.pidFile, fixture.path("run/postern.pid"))
        XCTAssertEqual(config.server.user, "postern")
        XCTAssertEqual(config.server.group, "998")
        XCTAssertEqual(config.shutdown.drainSeconds, 2.5)
        XCTAssertEqual(config.shutdown.loginGraceSeconds, 4)
    }

    func testAnAbsolutePidFileStaysAndZeroDrainIsAllowed() throws {
        let fixture = try ConfigFixture()
        let config = try ConfigLoader.load(
            path: try fixture.write(
                plainListener + """
                    server:
                      pid_file: /run/postern/postern.pid
                    shutdown:
                      drain_seconds: 0
                      login_grace_seconds: 0
                    """))
        XCTAssertEqual(config.server.pidFile, "/run/postern/postern.pid")
        XCTAssertEqual(config.shutdown.drainSeconds, 0)
        XCTAssertEqual(config.shutdown.loginGraceSeconds, 0)
    }

    func testBadValuesAreReportedWithTheirLines() throws {
        let issues = try ConfigFixture().issues(
            plainListener + """
                server:
                  pid_file: "/run/postern/"
                  user: "post ern"
                  group: ""
                shutdown:
                  drain_seconds: -1
                  drain_second: 3
                  login_grace_seconds: 301
                """)
        XCTAssertEqual(issues.count, 6, "\(issues)")
        assertIssue(issues, line: 7, key: "server.pid_file", contains: "names a folder")
        assertIssue(issues, line: 8, key: "server.user", contains: "is not a user name or id")
        assertIssue(issues, line: 9, key: "server.group", contains: "must not be empty")
        assertIssue(issues, line: 11, key: "shutdown.drain_seconds", contains: "out of range (must be 0 to 86400)")
        assertIssue(issues, line: 12, key: "shutdown.drain_second", contains: "unknown key")
        assertIssue(
            issues, line: 13, key: "shutdown.login_grace_seconds", contains: "out of range (must be 0 to 300)")
    }

    func testShutdownMustBeAMapping() throws {
        let issues = try ConfigFixture().issues(plainListener + "shutdown: 30\n")
        XCTAssertEqual(issues.count, 1, "\(issues)")
        XCTAssertEqual(issues.first?.key, "shutdown")
        XCTAssertEqual(issues.first?.line, 6)
    }
}
