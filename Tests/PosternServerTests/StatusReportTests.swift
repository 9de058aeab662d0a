import Foundation
import PosternConfig
import PosternMap
import PosternTLS
import XCTest

@testable import PosternServer

/// The JSON of `/status.json`, built from snapshots by `StatusReport.build` (no server needed).
final class StatusReportTests: XCTestCase {
    private let now = 1_796_009_400.0

    private func object(_ value: some Encodable) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(AdminJSON.encode(value))) as? [String: Any])
    }

    private func listener(_ name: String, tls: ListenerTLSMode = .none) -> ListenerConfig {
        ListenerConfig(
            name: name, proto: .imap, listen: [SocketAddressSpec(host: "192.0.2.1", port: 143)], tls: tls,
            backend: BackendEndpointConfig(port: 143, tls: .none))
    }

    private func session(_ id: String, listener: String, backend: String?, startedAgo: Double) -> SessionSnapshot {
        SessionSnapshot(
            id: id, user: "user-\(id)", client: "198.51.100.7:5\(id)", listener: listener, proto: "imap",
            backend: backend, state: backend == nil ? "login" : "relayed",
            started: Date(timeIntervalSince1970: now - startedAgo), clientIn: 1, clientOut: 2, backendIn: 3,
            backendOut: 4, clientTLS: nil, backendTLS: nil)
    }

    private func counts(ok: Int, rejected: Int = 0) -> LoginCounts {
        var counts = LoginCounts()
        counts[.ok] = ok
        counts[.rejected] = rejected
        return counts
    }

    private func inputs() -> StatusReport.Inputs {
        var fast = BackendRecord()
        for seconds in [0.001, 0.002, 0.003, 0.100] { fast.connectSeconds.append(seconds) }
        fast.lastSuccessAt = now - 10
        var failing = BackendRecord()
        failing.failures = [now - 5]
        failing.lastFailureAt = now - 5
        failing.lastSuccessAt = now - 50
        failing.lastError = "connect: Connection refused"
        return StatusReport.Inputs(
            now: now, startedAt: now - 600, generation: 3, draining: false,
            lastReload: ReloadRecord(
                generation: 3, at: Date(timeIntervalSince1970: now - 30), succeeded: false, errors: ["bad key"],
                attempt: 4),
            access: "token", listeners: [listener("imap"), listener("imaps", tls: .implicit)],
            bound: ["imap": ["192.0.2.1:143"]], tls: [:],
            sessions: [
                session("1", listener: "imap", backend: "10.0.0.1:143", startedAgo: 30),
                session("2", listener: "imap", backend: "10.0.0.1:143", startedAgo: 20),
                session("3", listener: "imaps", backend: nil, startedAgo: 10),
            ],
            breaker: [:], records: ["10.0.0.1:143": fast, "10.0.0.2:143": failing], drained: ["10.0.0.2:143"],
            samples: [
                StatusSample(at: now - 70, sessions: 1, logins: ["imap": counts(ok: 1)]),
                StatusSample(at: now - 65, sessions: 2, logins: ["imap": counts(ok: 2)]),
                StatusSample(at: now - 60, sessions: 2, logins: ["imap": counts(ok: 4, rejected: 1)]),
                StatusSample(at: now - 55, sessions: 3, logins: ["imap": counts(ok: 9, rejected: 1)]),
            ],
            logins: ["imap": counts(ok: 10, rejected: 3), "imaps": counts(ok: 0)])
    }

    func testTheProcessLine() throws {
        let json = try object(StatusReport.build(inputs()))
        let process = try XCTUnwrap(json["process"] as? [String: Any])
        XCTAssertEqual(process["uptime_s"] as? Int, 600)
        XCTAssertEqual(process["generation"] as? Int, 3)
        XCTAssertEqual(process["access"] as? String, "token")
        XCTAssertEqual(process["draining"] as? Bool, false)
        XCTAssertFalse((process["version"] as? String ?? "").isEmpty)
        let reload = try XCTUnwrap(process["last_reload"] as? [String: Any])
        XCTAssertEqual(reload["succeeded"] as? Bool, false)
        XCTAssertEqual(reload["errors"] as? [String], ["bad key"])
        XCTAssertEqual(json["history_interval_s"] as? Int, StatusHistory.interval)
    }

    func testListenersCountTheirSessionsAndTheLastMinutesLogins() throws {
        let json = try object(StatusReport.build(inputs()))
        let listeners = try XCTUnwrap(json["listeners"] as? [[String: Any]])
        XCTAssertEqual(listeners.map { $0["name"] as? String }, ["imap", "imaps"])
        let imap = listeners[0]
        XCTAssertEqual(imap["sessions"] as? Int, 2)
        XCTAssertEqual(imap["addresses"] as? [String], ["192.0.2.1:143"])
        XCTAssertEqual(imap["bound"] as? Bool, true)
        // Now's totals less those of the newest sample at least a minute old (the one 60 s ago).
        let logins = try XCTUnwrap(imap["logins"] as? [String: Int])
        XCTAssertEqual(logins["ok"], 6)
        XCTAssertEqual(logins["rejected"], 2)
        XCTAssertEqual(logins["unknown-user"], 0)
        XCTAssertEqual(imap["login_window_s"] as? Int, 60)
        XCTAssertTrue(imap["tls_posture"] is NSNull)
        let imaps = listeners[1]
        XCTAssertEqual(imaps["sessions"] as? Int, 1)
        XCTAssertEqual(imaps["bound"] as? Bool, false, "not bound: the configured address is shown")
        XCTAssertEqual(imaps["tls"] as? String, "implicit")
    }

    func testTheLoginWindowIsShorterWhileTheProcessIsYoung() {
        var young = inputs()
        young.samples = Array(young.samples.suffix(1))
        let report = StatusReport.build(young)
        XCTAssertEqual(report.listeners[0].loginWindow, 55)
        XCTAssertEqual(report.listeners[0].logins["ok"], 1)
    }

    func testBackendsAddLatencyPercentilesAndWhetherTheyFail() throws {
        let json = try object(StatusReport.build(inputs()))
        let backends = try XCTUnwrap(json["backends"] as? [[String: Any]])
        XCTAssertEqual(backends.map { $0["backend"] as? String }, ["10.0.0.1:143", "10.0.0.2:143"])
        let fast = backends[0]
        XCTAssertEqual(fast["connect_p50_ms"] as? Double, 2)
        XCTAssertEqual(fast["connect_p99_ms"] as? Double, 100)
        XCTAssertEqual(fast["failing"] as? Bool, false)
        XCTAssertEqual(fast["sessions"] as? Int, 2)
        // The `/backends` keys are all there too.
        XCTAssertNotNil(fast["consecutive_failures"])
        XCTAssertTrue(fast["last_error"] is NSNull)
        let failing = backends[1]
        XCTAssertEqual(failing["failing"] as? Bool, true, "its last failure is newer than its last success")
        XCTAssertEqual(failing["drained"] as? Bool, true)
        XCTAssertTrue(failing["connect_p50_ms"] is NSNull)
        XCTAssertEqual(failing["recent_failures"] as? Int, 1)
    }

    func testAnOpenBreakerFailsAndPercentilesUseNearestRank() {
        let open = BackendReport.build(
            breaker: ["b:1": CircuitBreaker.State(failures: 3, retryIn: 5)], records: [:], sessions: [], drained: [])
        XCTAssertTrue(StatusBackendReport(open[0], connectSeconds: []).failing)
        XCTAssertEqual(StatusBackendReport.percentile([0.001], 0.99), 1)
        XCTAssertEqual(StatusBackendReport.percentile((1...100).map { Double($0) / 1000 }, 0.5), 50)
        XCTAssertEqual(StatusBackendReport.percentile((1...100).map { Double($0) / 1000 }, 0.99), 99)
        XCTAssertNil(StatusBackendReport.percentile([], 0.5))
    }

    func testHistoryPointsAreLoginRatesBetweenSamples() {
        let points = StatusReport.build(inputs()).history
        XCTAssertEqual(points.map(\.t), [now - 65, now - 60, now - 55])
        XCTAssertEqual(points.map(\.sessions), [2, 2, 3])
        XCTAssertEqual(points.map(\.loginsOK), [0.2, 0.4, 1])
        XCTAssertEqual(points.map(\.loginsFailed), [0, 0.2, 0])
        XCTAssertEqual(StatusReport.points([]), [])
    }

    func testSessionsAreTheNewestWithinTheLimitAndCountedInFull() throws {
        let report = StatusReport.build(inputs(), sessionLimit: 2)
        XCTAssertEqual(report.sessions.map(\.id), ["3", "2"])
        XCTAssertEqual(report.sessionsTotal, 3)
        let json = try object(report)
        XCTAssertEqual(json["sessions_total"] as? Int, 3)
        XCTAssertEqual((json["sessions"] as? [[String: Any]])?.first?["user"] as? String, "user-3")
    }

    func testTheTLSPostureShowsCertificatesWithTheirDaysLeft() throws {
        let files = try TestCertificate.get()
        let context = try TLSContext.server(
            ServerTLSSettings(
                certificateChainPath: files.certificate, privateKeyPath: files.key, minVersion: .tls1_2,
                ciphers: "ECDHE+AESGCM", ciphersuites: "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384"))
        let report = try XCTUnwrap(context.policyReport)
        let posture = StatusTLSPosture(report, now: Date().timeIntervalSince1970)
        XCTAssertEqual(posture.versions, ["TLSv1.2", "TLSv1.3"])
        XCTAssertEqual(posture.tls13Ciphersuites, ["TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_256_GCM_SHA384"])
        XCTAssertFalse(posture.tls12Ciphers.isEmpty)
        let certificate = try XCTUnwrap(posture.certificates.first)
        XCTAssertEqual(certificate.subject, "CN=localhost")
        XCTAssertEqual(certificate.daysLeft, 1, "the test certificate is valid for two days")
        let json = try object(posture)
        XCTAssertEqual(
            Set(json.keys),
            ["versions", "tls13_ciphersuites", "tls12_ciphers", "prefer_server_ciphers", "certificates"])
        let first = try XCTUnwrap((json["certificates"] as? [[String: Any]])?.first)
        XCTAssertEqual(first["days_left"] as? Int, 1)
        XCTAssertEqual(first["server_names"] as? [String], [])
    }
}
