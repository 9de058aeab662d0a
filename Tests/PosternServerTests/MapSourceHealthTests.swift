import Foundation
import PosternConfig
import PosternMap
import XCTest

@testable import PosternServer

/// A map source's health for `/readyz` (its last failure, forgotten after a while or a success) and the
/// admin token read with the runtime.
final class MapSourceHealthTests: XCTestCase {
    func testALastFailureMakesASourceUnreachableUntilASuccessOrTimePasses() async throws {
        let map = FakeMap()
        let source = MeasuredMapSource(map, kind: "ldap", name: "ldap ldap://x", metrics: .none)
        XCTAssertTrue(source.health().reachable)
        let failing = Task { try await source.lookup(MapQuery(user: "alice")) }
        try await waitForLookup(of: "alice", in: map)
        XCTAssertTrue(map.fail("alice", "LDAP: no answer within 5.0 s"))
        _ = try? await failing.value
        let failed = source.health()
        XCTAssertFalse(failed.reachable)
        XCTAssertEqual(failed.lastError?.contains("no answer within 5.0 s"), true)
        let later = try XCTUnwrap(failed.lastErrorAt) + MeasuredMapSource.failureMemory
        XCTAssertTrue(source.health(now: later).reachable, "an old failure is not held against it")
        let answering = Task { try await source.lookup(MapQuery(user: "bob")) }
        try await waitForLookup(of: "bob", in: map)
        XCTAssertTrue(map.answer("bob", with: nil))
        _ = try await answering.value
        XCTAssertEqual(source.health(), MeasuredMapSource.Health(reachable: true))
    }

    /// Waits (bounded) until the map was asked about `user`.
    private func waitForLookup(of user: String, in map: FakeMap) async throws {
        for _ in 0..<5000 where !map.isWaiting(for: user) {
            try await Task.sleep(for: .milliseconds(1))
        }
        XCTAssertTrue(map.isWaiting(for: user), "the lookup of \(user) never came")
    }

    func testTheAdminTokenIsReadWithTheRuntime() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("postern-token-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let good = directory.appendingPathComponent("good").path
        let empty = directory.appendingPathComponent("empty").path
        try Data("  t0ken-1\n".utf8).write(to: URL(fileURLWithPath: good))
        try Data("\n".utf8).write(to: URL(fileURLWithPath: empty))
        var settings = ServerSettings()
        settings.adminTokenFile = good
        XCTAssertEqual(try Runtime.readAdminToken(settings)?.matches("t0ken-1"), true)
        settings.adminTokenFile = empty
        XCTAssertThrowsError(try Runtime.readAdminToken(settings)) { error in
            XCTAssertTrue("\(error)".contains("admin_token_file"), "\(error)")
            XCTAssertTrue("\(error)".contains("is empty"), "\(error)")
        }
        settings.adminTokenFile = nil
        XCTAssertNil(try Runtime.readAdminToken(settings))
    }
}
