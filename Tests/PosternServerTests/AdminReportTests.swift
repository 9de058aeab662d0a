import Foundation
import PosternMap
import PosternTLS
import XCTest

@testable import PosternServer

/// The JSON of `/sessions`, `/readyz` and `/backends`.
final class AdminReportTests: XCTestCase {
    private func object(_ bytes: [UInt8]) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
    }

    func testASessionSnapshotWritesEveryKeyWithNullsAndAnRFC3339Start() throws {
        let snapshot = SessionSnapshot(
            id: "2z", user: "alice", client: "192.0.2.7:50000", listener: "imaps", proto: "imap",
            backend: "10.0.0.1:143", state: "relayed", started: Date(timeIntervalSince1970: 1_796_009_368.123),
            clientIn: 10, clientOut: 20, backendIn: 30, backendOut: 40,
            clientTLS: SessionSnapshot.TLS(
                TLSSessionInfo(version: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384", resumed: false, alpn: "imap")),
            backendTLS: SessionSnapshot.TLS(TLSSessionInfo(version: "TLSv1.2", cipher: "X", resumed: false)))
        let json = try XCTUnwrap(try object(AdminJSON.encode([snapshot])) as? [[String: Any]]).first
        let row = try XCTUnwrap(json)
        XCTAssertEqual(
            Set(row.keys),
            [
                "id", "user", "client", "listener", "protocol", "backend", "state", "started", "client_in",
                "client_out", "backend_in", "backend_out", "client_tls", "backend_tls",
            ])
        XCTAssertEqual(row["started"] as? String, "2026-11-30T03:29:28.123Z")
        XCTAssertEqual(row["protocol"] as? String, "imap")
        XCTAssertEqual(row["client_in"] as? Int, 10)
        XCTAssertEqual((row["client_tls"] as? [String: String])?["cipher"], "TLS_AES_256_GCM_SHA384")
        XCTAssertEqual((row["client_tls"] as? [String: String])?["alpn"], "imap")
        XCTAssertTrue((row["backend_tls"] as? [String: Any])?["alpn"] is NSNull, "no ALPN agreed: null")
        let anonymous = SessionSnapshot(
            id: "1", user: nil, client: "c", listener: "l", proto: "pop3", backend: nil, state: "login",
            started: Date(), clientIn: 0, clientOut: 0, backendIn: 0, backendOut: 0, clientTLS: nil, backendTLS: nil)
        let other = try XCTUnwrap(try object(AdminJSON.encode(anonymous)) as? [String: Any])
        XCTAssertTrue(other["user"] is NSNull && other["backend"] is NSNull && other["client_tls"] is NSNull)
    }

    func testReadinessNamesEachUnmetCondition() throws {
        let good = ReadinessReport.Source(name: "file /m", kind: "file", reachable: true, lastError: nil)
        let ready = ReadinessReport(
            configured: ["imap"], bound: ["imap": ["127.0.0.1:143"]], draining: false, lastReload: nil, sources: [good],
            generation: 3)
        XCTAssertTrue(ready.isReady)
        let json = try XCTUnwrap(try object(AdminJSON.encode(ready)) as? [String: Any])
        XCTAssertEqual(json["status"] as? String, "ready")
        XCTAssertEqual(json["generation"] as? Int, 3)
        XCTAssertTrue(json["last_reload"] is NSNull)

        let down = ReadinessReport.Source(name: "ldap ldap://x", kind: "ldap", reachable: false, lastError: "timeout")
        let refused = ReloadRecord(generation: 3, at: Date(), succeeded: false, errors: ["f.yaml:2:1: bad"])
        let not = ReadinessReport(
            configured: ["imap", "pop3"], bound: ["imap": ["127.0.0.1:143"]], draining: false, lastReload: refused,
            sources: [good, down], generation: 3)
        XCTAssertFalse(not.isReady)
        XCTAssertEqual(
            not.reasons,
            [
                "the last reload (generation 3) was refused: f.yaml:2:1: bad", "listener pop3 is not bound",
                "map source ldap ldap://x does not answer: timeout",
            ])
        let draining = ReadinessReport(
            configured: ["imap"], bound: [:], draining: true, lastReload: nil, sources: [], generation: 1)
        XCTAssertEqual(draining.reasons, ["draining"], "while draining, unbound listeners are expected")
        let text = try XCTUnwrap(try object(AdminJSON.encode(draining)) as? [String: Any])
        XCTAssertEqual(text["status"] as? String, "not-ready")
    }

    func testBackendsUnionTheBreakerTheRecordsTheSessionsAndTheDrainedSet() {
        let now = Date()
        func session(_ id: String, _ backend: String?, _ state: String) -> SessionSnapshot {
            SessionSnapshot(
                id: id, user: "u", client: "c", listener: "l", proto: "imap", backend: backend, state: state,
                started: now, clientIn: 0, clientOut: 0, backendIn: 0, backendOut: 0, clientTLS: nil, backendTLS: nil)
        }
        var record = BackendRecord()
        record.failures = [1, 2]
        record.lastError = "connect: refused"
        record.lastFailureAt = 2
        let report = BackendReport.build(
            breaker: ["a.example:143": CircuitBreaker.State(failures: 2, retryIn: 12.2)],
            records: ["a.example:143": record, "b.example:143": BackendRecord(lastSuccessAt: 5)],
            sessions: [
                session("1", "B.example:143", "relayed"), session("2", "b.example:143", "connecting"),
                session("3", "a.example:143", "login"), session("4", nil, "login"),
            ],
            drained: ["c.example:143"])
        XCTAssertEqual(report.map(\.backend), ["a.example:143", "b.example:143", "c.example:143"])
        XCTAssertEqual(report[0].breaker, "open")
        XCTAssertEqual(report[0].retryIn, 13)
        XCTAssertEqual(report[0].consecutiveFailures, 2)
        XCTAssertEqual(report[0].recentFailures, 2)
        XCTAssertEqual(report[0].sessions, 0, "a session back in the login dialogue does not count")
        XCTAssertEqual(report[1].breaker, "closed")
        XCTAssertEqual(report[1].sessions, 2)
        XCTAssertEqual(report[1].lastSuccess, Date(timeIntervalSince1970: 5))
        XCTAssertTrue(report[2].drained)
        XCTAssertFalse(report[0].drained)
    }
}
