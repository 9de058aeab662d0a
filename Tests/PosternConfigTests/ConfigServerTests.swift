import XCTest

@testable import PosternConfig

/// The `server:` keys of the operations issue (`log_format`, `admin_token_file`) and `event_loop`.
final class ConfigServerTests: XCTestCase {
    func testLogFormatAndTokenFile() throws {
        let fixture = try ConfigFixture()
        try Data("t0ken\n".utf8).write(to: URL(fileURLWithPath: fixture.path("admin.token")))
        let path = try fixture.write(
            """
            server:
              admin_listen: "127.0.0.1:9143"
              admin_token_file: admin.token
              log_format: json
              log_level: debug
            """ + "\n" + plainListener)
        let config = try ConfigLoader.load(path: path)
        XCTAssertEqual(config.server.logFormat, .json)
        XCTAssertEqual(config.server.logLevel, "debug")
        XCTAssertEqual(config.server.adminTokenFile, fixture.path("admin.token"))
    }

    func testDefaults() throws {
        let fixture = try ConfigFixture()
        let config = try ConfigLoader.load(path: try fixture.write(plainListener))
        XCTAssertEqual(config.server.logFormat, .logfmt)
        XCTAssertNil(config.server.adminTokenFile)
        XCTAssertEqual(config.server.eventLoop, .epollThread)
    }

    func testEventLoopChoices() throws {
        let fixture = try ConfigFixture()
        for name in ["dispatch-sources", "dispatch-epoll", "epoll-thread"] {
            let config = try ConfigLoader.load(
                path: try fixture.write("server:\n  event_loop: \(name)\n" + plainListener))
            XCTAssertEqual(config.server.eventLoop.rawValue, name)
        }
        let issues = try fixture.issues("server:\n  event_loop: io_uring\n" + plainListener)
        assertIssue(
            issues, line: 2, key: "server.event_loop",
            contains: "bad value 'io_uring' (allowed values: dispatch-sources, dispatch-epoll, epoll-thread)")
    }

    func testBadValuesNameTheirLine() throws {
        let fixture = try ConfigFixture()
        let issues = try fixture.issues(
            """
            server:
              log_format: yaml
              admin_token_file: missing.token
            """ + "\n" + plainListener)
        assertIssue(
            issues, line: 2, key: "server.log_format", contains: "bad value 'yaml' (allowed values: text, logfmt, json)"
        )
        assertIssue(issues, line: 3, key: "server.admin_token_file", contains: "file not found")
    }
}
