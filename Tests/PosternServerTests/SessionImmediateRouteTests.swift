import PosternIO
import PosternMap
import XCTest

@testable import PosternServer

/// A map that answers at once (a file or regex map, a fresh cache entry) routes the login without the
/// asynchronous lookup: never inside the handling of the LOGIN command itself, but on a later step of the
/// shard; an immediate failure gets the same reply as a failure from the asynchronous lookup.
final class SessionImmediateRouteTests: XCTestCase {
    func testAnImmediateAnswerRoutesWithoutAskingAndAfterTheCommand() throws {
        let h = try SessionHarness()
        h.map.answerAtOnce(
            "alice", with: .success(Route(servers: [BackendAddress(host: "a.example")], reason: "users.map:1")))
        h.start()
        let routingRightAfter = h.run { () -> Bool in
            h.client.receive("a LOGIN alice s3cret-pw\r\n")
            return h.session.phaseIsRouting
        }
        XCTAssertTrue(routingRightAfter, "the answer is not taken inside the command's own handling")
        h.waitUntil("the dial to a.example") { h.dialler.resolvedHosts == ["a.example"] }
        XCTAssertEqual(h.map.asked, [], "the asynchronous lookup was never made")
        h.run { h.dialler.answer(0, addresses: ["192.0.2.10"]) }
        h.backendAccepts(h.backend)
        XCTAssertTrue(h.clientText.contains("a OK"), h.clientText)
        h.run { h.session.shutdown() }
        XCTAssertEqual(h.logs.sessionLine?.metadata["route"], "users.map:1")
    }

    func testAnImmediateFailureGetsTheReplyOfAnAsynchronousOne() throws {
        let atOnce = try SessionHarness()
        atOnce.map.answerAtOnce("alice", with: .failure(MapError("re:2: the rule gives 'x y'")))
        atOnce.start()
        atOnce.loginAlice()
        atOnce.waitUntil("the failure reply") { atOnce.client.text.contains("a NO") }

        let asked = try SessionHarness()
        asked.start()
        asked.loginAlice()
        asked.waitUntil("alice's lookup") { asked.map.isWaiting(for: "alice") }
        asked.map.fail("alice", "re:2: the rule gives 'x y'")
        asked.waitUntil("the failure reply") { asked.client.text.contains("a NO") }

        XCTAssertEqual(atOnce.clientText, asked.clientText)
        XCTAssertEqual(atOnce.map.asked, [])
    }

    func testAnImmediateUnknownUserIsRefusedLikeAnAskedOne() throws {
        let h = try SessionHarness()
        h.map.answerAtOnce("alice", with: .success(nil))
        h.start()
        h.loginAlice()
        // As for an asked map, the answer to an unknown user is held as long as a backend's rejection takes.
        h.waitUntil("the held answer") { !h.timer.deadlines.isEmpty }
        h.fireTimers(after: 6)
        h.waitUntil("the refusal") { h.logs.lines.contains { $0.message == "login failed" } }
        XCTAssertEqual(h.logs.lines.first { $0.message == "login failed" }?.metadata["reason"], "unknown-user")
        XCTAssertTrue(h.clientText.contains("a NO"), h.clientText)
        XCTAssertEqual(h.map.asked, [])
        XCTAssertEqual(h.run { h.dialler.resolvedHosts }, [], "nothing dialled for an unknown user")
    }
}
