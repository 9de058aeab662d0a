import PosternIO
import XCTest

@testable import PosternServer

/// Answers that come for an attempt that is over are dropped: a retried login routes and dials by its own
/// answers only.
final class SessionStaleAnswerTests: XCTestCase {
    private let timeout = SessionHarness.connectTimeout

    func testAStaleMapAnswerAfterARetryIsIgnored() throws {
        let h = try SessionHarness()
        h.start()
        h.loginAlice()
        h.waitUntil("alice's lookup") { h.map.isWaiting(for: "alice") }
        h.advance(timeout + 1)
        XCTAssertTrue(h.clientText.contains("a NO [UNAVAILABLE] User directory did not answer."), h.clientText)
        h.send("b LOGIN bob bobs-pw\r\n")
        h.waitUntil("bob's lookup") { h.map.isWaiting(for: "bob") }
        // Alice's answer arrives late, while bob's login waits for its own.
        h.map.answer("alice", with: .init(servers: [.init(host: "a.example")], reason: "alice's entry"))
        h.waitUntil("the stale answer") { h.session.staleMapAnswers == 1 }
        XCTAssertTrue(h.run { h.session.phaseIsRouting }, "bob's login still waits")
        XCTAssertEqual(h.run { h.dialler.resolvedHosts }, [])
        h.route("bob", to: ["b.example"])
        XCTAssertEqual(h.run { h.dialler.resolvedHosts }, ["b.example"])
        h.run { h.session.shutdown() }
        XCTAssertEqual(h.logs.sessionLine?.metadata["user"], "bob")
        XCTAssertEqual(h.logs.sessionLine?.metadata["route"], "test map")
    }

    func testAStaleNameAnswerAfterARetryIsIgnored() throws {
        let h = try SessionHarness()
        h.start()
        h.loginAlice()
        h.route("alice", to: ["a.example"])
        h.advance(timeout + 1)
        XCTAssertTrue(h.clientText.contains("a NO [UNAVAILABLE]"), h.clientText)
        h.send("b LOGIN bob bobs-pw\r\n")
        h.route("bob", to: ["b.example"])
        XCTAssertEqual(h.run { h.dialler.resolvedHosts }, ["a.example", "b.example"])
        // a.example's addresses arrive after its attempt gave up: nothing is connected.
        h.run { h.dialler.answer(0, addresses: ["192.0.2.10"]) }
        XCTAssertEqual(h.run { h.dialler.connectAttempts }, [])
        h.run { h.dialler.answer(1, addresses: ["192.0.2.11"]) }
        XCTAssertEqual(h.run { h.dialler.connectAttempts }, ["192.0.2.11:143"])
        h.backendAccepts(h.backend)
        XCTAssertTrue(h.clientText.contains("b OK"), h.clientText)
        h.run { h.session.shutdown() }
        XCTAssertEqual(h.logs.sessionLine?.metadata["backend"], "b.example:143")
    }

    func testAStaleNameAnswerWithinAnAttemptIsIgnored() throws {
        let h = try SessionHarness()
        h.start()
        h.loginAlice()
        h.route("alice", to: ["a.example", "b.example"])
        h.advance(timeout + 1)
        XCTAssertEqual(h.run { h.dialler.resolvedHosts }, ["a.example", "b.example"])
        h.run { h.dialler.answer(0, addresses: ["192.0.2.10"]) }
        XCTAssertEqual(h.run { h.dialler.connectAttempts }, [], "a's answer is for a step that is over")
        h.run { h.dialler.answer(1, addresses: ["192.0.2.11"]) }
        XCTAssertEqual(h.run { h.dialler.connectAttempts }, ["192.0.2.11:143"])
    }
}
