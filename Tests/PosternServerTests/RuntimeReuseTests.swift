import Foundation
import Glibc
import PosternConfig
import PosternMap
import XCTest

@testable import PosternServer

/// A reload keeps the map (and its cache) when the map's configuration and files did not change, and the
/// breaker when `map.breaker` did not.
final class RuntimeReuseTests: XCTestCase {
    private var folder: URL!
    private var mapFile: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("postern-reuse-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        mapFile = folder.appendingPathComponent("users.map")
        try Data("alice 192.0.2.10\n".utf8).write(to: mapFile)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    private func config(_ adjust: (inout PosternConfig) -> Void = { _ in }) -> PosternConfig {
        var map = MapConfig()
        map.files = [mapFile.path]
        var config = PosternConfig(
            sourcePath: folder.appendingPathComponent("postern.yaml").path, server: ServerSettings(),
            listeners: [
                ListenerConfig(
                    name: "imap", proto: .imap, listen: [SocketAddressSpec(host: "127.0.0.1", port: 1143)], tls: .none,
                    backend: BackendEndpointConfig(port: 143, tls: .none))
            ], tls: nil, backendTLS: BackendTLSConfig(), map: map, limits: Limits())
        adjust(&config)
        return config
    }

    /// Where the runtime's map sends alice.
    private func alice(_ runtime: Runtime) async throws -> String? {
        try await runtime.map.lookup(MapQuery(user: "alice", clientIP: nil))?.servers.first?.description
    }

    /// Rewrites the map file in place with content of the same size and puts its modification time back:
    /// what `stat` says about it stays the same.
    private func rewriteKeepingTheStamp(_ text: String) throws {
        var before = stat()
        XCTAssertEqual(stat(mapFile.path, &before), 0)
        let handle = try FileHandle(forWritingTo: mapFile)
        try handle.write(contentsOf: Data(text.utf8))
        try handle.close()
        var times = [before.st_atim, before.st_mtim]
        XCTAssertEqual(utimensat(AT_FDCWD, mapFile.path, &times, 0), 0)
    }

    func testAnUnchangedMapAndBreakerAreTakenOver() async throws {
        let first = try Runtime(config: config(), generation: 1)
        let firstAlice = try await alice(first)
        XCTAssertEqual(firstAlice, "192.0.2.10")
        // The file's stamp is unchanged: the map is not read again (the old answer proves it is the same map).
        try rewriteKeepingTheStamp("alice 192.0.2.20\n")
        let second = try Runtime(config: config { $0.limits.loginTimeout = 5 }, generation: 2, reusing: first)
        XCTAssertTrue(second.mapReused)
        let secondAlice = try await alice(second)
        XCTAssertEqual(secondAlice, "192.0.2.10")
        XCTAssertTrue(second.breakerReused)
        XCTAssertTrue(second.breaker === first.breaker)
    }

    func testAChangedMapFileBuildsANewMapButKeepsTheBreaker() async throws {
        let first = try Runtime(config: config(), generation: 1)
        try Data("alice 192.0.2.11\nbob 192.0.2.12\n".utf8).write(to: mapFile)
        let second = try Runtime(config: config(), generation: 2, reusing: first)
        XCTAssertFalse(second.mapReused)
        let secondAlice = try await alice(second)
        XCTAssertEqual(secondAlice, "192.0.2.11")
        XCTAssertTrue(second.breakerReused)
    }

    func testAChangedMapConfigurationBuildsANewMap() throws {
        let first = try Runtime(config: config(), generation: 1)
        let second = try Runtime(
            config: config { $0.map.defaultServers = ["192.0.2.99"] }, generation: 2, reusing: first)
        XCTAssertFalse(second.mapReused)
    }

    func testAChangedBreakerStartsAFreshOne() throws {
        let first = try Runtime(config: config(), generation: 1)
        let second = try Runtime(config: config { $0.map.breaker.backoff = 5 }, generation: 2, reusing: first)
        XCTAssertFalse(second.breakerReused)
        XCTAssertFalse(second.breaker === first.breaker)
        XCTAssertFalse(second.mapReused, "the breaker's settings are part of the map block")
    }

    func testWithoutAPreviousRuntimeEverythingIsNew() throws {
        let runtime = try Runtime(config: config(), generation: 1)
        XCTAssertFalse(runtime.mapReused)
        XCTAssertFalse(runtime.breakerReused)
    }
}
