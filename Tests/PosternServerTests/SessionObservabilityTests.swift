import Foundation
import PosternIO
import PosternMap
import XCTest

@testable import PosternServer

/// What a session tells operators: the login lines, the login and connect histograms, relayed bytes as
/// they flow, the session line's fields in key order, its admin snapshot, and TLS failure reasons.
final class SessionObservabilityTests: XCTestCase {
    private let ok = #"postern_login_duration_seconds_count{listener="imap",result="ok"}"#
    private let rejected = #"postern_login_duration_seconds_count{listener="imap",result="rejected"}"#

    func testASuccessfulLoginIsLoggedTimedAndCounted() throws {
        let h = try SessionHarness()
        h.start()
        h.loginAlice()
        h.route("alice", to: ["a.example"])
        h.run { h.dialler.answer(0, addresses: ["192.0.2.10"]) }
        let backend = h.backend
        h.advance(0.25)
        h.backendAccepts(backend)
        let line = try XCTUnwrap(h.logs.lines.first { $0.message == "login succeeded" })
        XCTAssertEqual(line.level, .info)
        XCTAssertEqual(
            line.metadata,
            [
                "backend": "a.example:143", "backend_user": "alice", "client": "192.0.2.7:50000", "listener": "imap",
                "login_ms": "250", "mechanism": "LOGIN", "protocol": "imap", "session": "t1", "user": "alice",
            ])
        XCTAssertEqual(line.keys, line.keys.sorted())
        XCTAssertEqual(h.stats.value(of: ok), 1)
        XCTAssertEqual(h.stats.value(of: #"postern_logins_total{result="ok"}"#), 1)
        XCTAssertEqual(h.stats.value(of: #"postern_backend_connect_duration_seconds_count{backend="other"}"#), 1)
        XCTAssertFalse(h.logs.allText.contains("s3cret-pw"))
        // The relay counts what flows, each way, before the session ends.
        h.run { h.client.receive("b NOOP\r\n") }
        h.run { h.backend.receive("b OK NOOP done\r\n") }
        XCTAssertEqual(h.stats.value(of: #"postern_relayed_bytes_total{direction="client_to_backend"}"#), 8)
        XCTAssertEqual(h.stats.value(of: #"postern_relayed_bytes_total{direction="backend_to_client"}"#), 16)
        h.run { h.backend.receiveEOF() }
        let session = try XCTUnwrap(h.logs.sessionLine)
        XCTAssertEqual(session.keys, session.keys.sorted(), "the session line is written in key order")
        XCTAssertEqual(session.metadata["protocol"], "imap")
        XCTAssertEqual(session.metadata["mechanism"], "LOGIN")
        XCTAssertEqual(session.metadata["backend_user"], "alice")
        XCTAssertEqual(session.metadata["login_ms"], "250")
    }

    func testARefusedLoginIsANoticeWithItsReasonAndNoSecret() throws {
        let h = try SessionHarness()
        h.start()
        h.send("a AUTHENTICATE PLAIN \(Data("\0alice\0s3cret-pw".utf8).base64EncodedString())\r\n")
        h.route("alice", to: ["a.example"])
        h.run { h.dialler.answer(0, addresses: ["192.0.2.10"]) }
        let backend = h.backend
        h.run {
            backend.connect()
            backend.receive("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] ready\r\n")
            backend.receive("P1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n")
        }
        let line = try XCTUnwrap(h.logs.lines.first { $0.message == "login failed" })
        XCTAssertEqual(line.level, .notice)
        XCTAssertEqual(line.metadata["reason"], "rejected")
        XCTAssertEqual(line.metadata["user"], "alice")
        XCTAssertEqual(line.metadata["mechanism"], "PLAIN")
        XCTAssertEqual(line.metadata["client"], "192.0.2.7:50000")
        XCTAssertEqual(line.metadata["backend"], "a.example:143")
        XCTAssertEqual(h.stats.value(of: rejected), 1)
        XCTAssertEqual(h.stats.value(of: ok), 0)
        XCTAssertFalse(h.logs.allText.contains("s3cret-pw"))
        XCTAssertFalse(h.logs.allText.contains(Data("\0alice\0s3cret-pw".utf8).base64EncodedString()))
    }

    func testAnUnknownUserIsLoggedAsSuch() throws {
        let h = try SessionHarness()
        h.start()
        h.loginAlice()
        h.waitUntil("the lookup") { h.map.isWaiting(for: "alice") }
        XCTAssertTrue(h.map.answer("alice", with: nil))
        // The answer to an unknown user is held as long as a backend's rejection takes.
        h.waitUntil("the held answer") { !h.timer.deadlines.isEmpty }
        h.fireTimers(after: 6)
        h.waitUntil("the refusal") { h.logs.lines.contains { $0.message == "login failed" } }
        let line = try XCTUnwrap(h.logs.lines.first { $0.message == "login failed" })
        XCTAssertEqual(line.metadata["reason"], "unknown-user")
        XCTAssertNil(line.metadata["backend"])
        XCTAssertEqual(
            h.stats.value(of: #"postern_login_duration_seconds_count{listener="imap",result="unknown-user"}"#), 1)
    }

    func testTheSnapshotShowsTheRelayedSession() throws {
        let h = try SessionHarness()
        h.relayAlice()
        let wall = Date(timeIntervalSince1970: 2_000_000_000)
        h.advance(60)
        let snapshot = h.run { h.session.snapshot(now: h.clock.now(), wallNow: wall) }
        XCTAssertEqual(snapshot.id, "t1")
        XCTAssertEqual(snapshot.user, "alice")
        XCTAssertEqual(snapshot.state, "relayed")
        XCTAssertEqual(snapshot.backend, "a.example:143")
        XCTAssertEqual(snapshot.proto, "imap")
        XCTAssertEqual(snapshot.started, wall.addingTimeInterval(-60))
        XCTAssertEqual(snapshot.backendIn, h.run { h.backend.bytesIn })
        XCTAssertEqual(snapshot.clientOut, h.run { h.client.bytesOut })
        XCTAssertNil(snapshot.clientTLS)
        XCTAssertTrue(h.run { h.session.matches(SessionFilter(user: "alice", backend: "A.example:143")) })
        XCTAssertFalse(h.run { h.session.matches(SessionFilter(user: "alice", id: "t2")) })
    }
}
