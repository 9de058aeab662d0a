import Logging
import PosternConfig
import PosternIO
import XCTest

@testable import PosternServer

/// The sessions of one listener share one `SessionShared` (the listener's configuration, the metric handles,
/// the seams) instead of each carrying a copy; a changed listener or other guards get a new one, and the
/// table of them keeps no runtime alive.
final class SessionContextSharingTests: XCTestCase {
    private let shard = EventShard(index: 0, readBufferSize: 4096)
    private let stats = Stats()
    private let logger = Logger(label: "test")

    private func listener(_ name: String = "imap", port: Int = 1143) -> ListenerConfig {
        ListenerConfig(
            name: name, proto: .imap, listen: [SocketAddressSpec(host: "127.0.0.1", port: port)], tls: .none,
            backend: BackendEndpointConfig(port: 143, tls: .none))
    }

    private func runtime(_ listeners: [ListenerConfig]) throws -> Runtime {
        let config = PosternConfig(
            sourcePath: "/test/postern.yaml", server: ServerSettings(), listeners: listeners, tls: nil,
            backendTLS: BackendTLSConfig(), map: MapConfig(), limits: Limits())
        return try Runtime(config: config, generation: 1, map: FakeMap(), dialler: FakeDialler())
    }

    private func context(_ runtime: Runtime, _ listener: ListenerConfig, guards: SessionGuards?) -> SessionContext {
        SessionContext(
            shard: shard, runtime: runtime, listener: listener, stats: stats, logger: logger, guards: guards,
            metrics: stats.table)
    }

    func testSessionsOfAListenerShareOneObject() throws {
        let imap = listener()
        let runtime = try runtime([imap])
        let guards = SessionGuards(limits: Limits())
        let first = context(runtime, imap, guards: guards)
        let second = context(runtime, imap, guards: guards)
        XCTAssertTrue(first.shared === second.shared)
        XCTAssertEqual(second.listener, imap)
        XCTAssertTrue(second.guards === guards)
    }

    func testAnotherListenerOrOtherGuardsGetTheirOwn() throws {
        let imap = listener()
        let other = listener("other", port: 1144)
        let runtime = try runtime([imap, other])
        let guards = SessionGuards(limits: Limits())
        let first = context(runtime, imap, guards: guards)
        XCTAssertFalse(first.shared === context(runtime, other, guards: guards).shared)
        XCTAssertFalse(first.shared === context(runtime, imap, guards: SessionGuards(limits: Limits())).shared)
        var changed = imap
        changed.sasl = [.plain]
        let third = context(runtime, changed, guards: guards)
        XCTAssertFalse(first.shared === third.shared)
        XCTAssertEqual(third.listener.sasl, [.plain])
    }

    func testContextsWithTheirOwnSeamsAreNotShared() throws {
        let imap = listener()
        let runtime = try runtime([imap])
        XCTAssertFalse(context(runtime, imap, guards: nil).shared === context(runtime, imap, guards: nil).shared)
        let guards = SessionGuards(limits: Limits())
        let clocked = SessionContext(
            shard: shard, runtime: runtime, listener: imap, stats: stats, logger: logger, clock: ManualClock(),
            guards: guards)
        XCTAssertFalse(clocked.shared === context(runtime, imap, guards: guards).shared)
    }

    func testTheSharingTableKeepsNoRuntimeAlive() throws {
        let imap = listener()
        weak var released: Runtime?
        do {
            let runtime = try runtime([imap])
            released = runtime
            let context = context(runtime, imap, guards: SessionGuards(limits: Limits()))
            XCTAssertTrue(context.runtime === runtime)
        }
        XCTAssertNil(released)
    }
}
