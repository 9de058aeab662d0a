import Foundation
import PosternConfig
import PosternMap
import PosternProtocol
import XCTest

@testable import PosternServer

/// A login name that cannot be used and a route outside `map.allowed_backends` are answered like an unknown
/// user, and nothing is dialled; backends outside the configuration share one metric label.
final class SessionLoginCheckTests: XCTestCase {
    private let failed = "a NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"

    /// base64 of a PLAIN message.
    private func plain(_ authzid: String, _ user: String, _ password: String) -> String {
        SASL.base64Encode(Array("\(authzid)\u{0}\(user)\u{0}\(password)".utf8))
    }

    func testControlCharactersInTheAuthzidAreRefusedBeforeRouting() throws {
        let h = try SessionHarness()
        h.start()
        h.send("a AUTHENTICATE PLAIN \(plain("alice\nx", "alice", "pw"))\r\n")
        XCTAssertTrue(h.clientText.hasSuffix(failed), h.clientText)
        XCTAssertTrue(h.map.asked.isEmpty, "nothing was routed")
        XCTAssertTrue(h.run { h.dialler.resolves.isEmpty })
        XCTAssertNotNil(h.logs.lines.first { $0.message == "login name refused" })
    }

    func testCRLFInALiteralLoginNameIsRefused() throws {
        let h = try SessionHarness()
        h.start()
        h.send("a LOGIN {7+}\r\nal\r\nice pw\r\n")
        XCTAssertTrue(h.clientText.hasSuffix(failed), h.clientText)
        XCTAssertTrue(h.map.asked.isEmpty)
        let line = h.logs.lines.first { $0.message == "login name refused" }
        XCTAssertEqual(line?.metadata["user"], "al\\u{d}\\u{a}ice", "no line break reaches the log")
    }

    func testNULInALiteralNeverReachesTheMap() throws {
        let h = try SessionHarness()
        h.start()
        h.send("a LOGIN {6+}\r\nal\u{0}ice pw\r\n")
        XCTAssertTrue(h.clientText.hasSuffix("a BAD NUL in literal.\r\n"), h.clientText)
        XCTAssertTrue(h.map.asked.isEmpty)
    }

    func testAValidNameIsRoutedAsBefore() throws {
        let h = try SessionHarness()
        h.start()
        h.send("a AUTHENTICATE PLAIN \(plain("", "alice", "pw"))\r\n")
        h.waitUntil("the lookup") { h.map.isWaiting(for: "alice") }
    }

    func testTheCheckCoversEveryName() {
        XCTAssertNil(Session.loginNameProblem(Credentials(user: "alice@example.net", password: "x\r\ny")))
        XCTAssertEqual(Session.loginNameProblem(Credentials(user: "a\u{0}b", password: "")), .nul)
        XCTAssertEqual(Session.loginNameProblem(Credentials(user: "", password: "")), .empty)
        XCTAssertEqual(
            Session.loginNameProblem(Credentials(user: "alice", password: "", authzid: "b\tc")), .controlCharacter(9))
        XCTAssertEqual(
            Session.loginNameProblem(
                Credentials(user: "a\rb", passThrough: SASLPassThrough(mechanism: .xoauth2, response: []))),
            .controlCharacter(13))
    }

    func testARouteOutsideAllowedBackendsIsAnUnknownUser() throws {
        let h = try SessionHarness()
        h.start()
        h.loginAlice()
        h.waitUntil("the lookup") { h.map.isWaiting(for: "alice") }
        let refusal = MapRefusal(source: "file users.map", reason: .backendNotAllowed(BackendAddress(host: "10.9.9.9")))
        h.map.fail("alice", throwing: RouteRefused(refusal))
        h.waitUntil("the refusal") { h.logs.lines.contains { $0.message == "route refused" } }
        XCTAssertFalse(h.run { h.client.text.hasSuffix(self.failed) }, "held as long as a backend's rejection")
        h.fireTimers(after: 6)
        h.waitUntil("the answer") { h.client.text.hasSuffix(self.failed) }
        XCTAssertTrue(h.run { h.dialler.resolves.isEmpty }, "nothing was dialled")
        let line = h.logs.lines.first { $0.message == "route refused" }
        XCTAssertEqual(line?.metadata["reason"], refusal.description)
    }

    func testBackendMetricLabelsAreLimitedToTheConfiguredBackends() throws {
        let h = try SessionHarness(mapConfig: { $0.defaultServers = ["imap1.example.org", "10.1.0.5:1143"] })
        let runtime = h.runtime
        XCTAssertEqual(runtime.backendMetricLabel("imap1.example.org:143"), "imap1.example.org:143")
        XCTAssertEqual(runtime.backendMetricLabel("IMAP1.example.org:993"), "IMAP1.example.org:993", "any port")
        XCTAssertEqual(runtime.backendMetricLabel("10.1.0.5:1143"), "10.1.0.5:1143")
        XCTAssertEqual(runtime.backendMetricLabel("10.1.0.5:25"), "other", "only the port named")
        XCTAssertEqual(runtime.backendMetricLabel("127.0.0.3:25"), "other")
        XCTAssertEqual(runtime.backendMetricLabel("not a label"), "other")
    }

    func testTheServersOfMapFilesAreNamedToo() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("postern-labels-\(getpid()).map")
        try "alice imap9.example.org:1143\n*@example.net imap8.example.org\n".write(
            to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        var config = try SessionHarness().runtime.config
        config.map.files = [file.path]
        let runtime = try Runtime(config: config, generation: 2, dialler: FakeDialler())
        XCTAssertEqual(runtime.backendMetricLabel("imap9.example.org:1143"), "imap9.example.org:1143")
        XCTAssertEqual(runtime.backendMetricLabel("imap9.example.org:143"), "other")
        XCTAssertEqual(runtime.backendMetricLabel("imap8.example.org:143"), "imap8.example.org:143")
        XCTAssertEqual(runtime.backendMetricLabel("a:25"), "other")
    }
}
