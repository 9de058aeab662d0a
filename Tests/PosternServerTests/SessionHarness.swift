import Dispatch
import Foundation
import PosternConfig
import PosternIO
import PosternMap
import PosternProtocol
import XCTest

@testable import PosternServer

/// One session on an IMAP listener, wired to fakes: the client connection, the dialler, the map and the
/// clock, and the timer of throttled logins. Session code runs on a shard's queue (its timer is not
/// started): `run` executes there, and the test calls `tick` itself after moving the clock. Harnesses made
/// with the same `guards` share the connection counts and the throttle, like the sessions of one server.
final class SessionHarness {
    static let bufferSize = 4096
    static let connectTimeout = 10.0

    let shard = EventShard(index: 0, readBufferSize: 4096)
    let map = FakeMap()
    let dialler = FakeDialler()
    let client: FakeConnection
    let logs = LogCapture()
    let clock: ManualClock
    let timer = FakeTimer()
    let guards: SessionGuards
    let stats = Stats()
    let backends = BackendRegistry()
    let runtime: Runtime
    let listener: ListenerConfig
    private(set) var session: Session!
    private(set) var ended = 0

    /// Where the client connected to (the session's local address).
    static let localAddress = address("198.51.100.1", 1143)

    /// `tls`: the listener's mode (implicit and STARTTLS need the test certificate); `limits`, `breaker`,
    /// `listener` and `mapConfig` adjust the configuration; `frontEnd` replaces the real IMAP machine;
    /// `guards` are shared with other harnesses (by default the session gets its own, on this harness's
    /// clock, without jitter).
    init(
        tls: ListenerTLSMode = .none, limits adjust: (inout Limits) -> Void = { _ in },
        breakerFailures: Int = 1, frontEnd: (any FrontEndMachine)? = nil,
        listener adjustListener: (inout ListenerConfig) -> Void = { _ in },
        mapConfig adjustMap: (inout MapConfig) -> Void = { _ in }, guards: SessionGuards? = nil,
        clock: ManualClock = ManualClock(), peer: String = "192.0.2.7"
    ) throws {
        self.clock = clock
        self.client = FakeConnection(peer: address(peer, 50000))
        var limits = Limits()
        limits.bufferSize = SessionHarness.bufferSize
        limits.connectTimeout = SessionHarness.connectTimeout
        limits.maxQueuedBytes = SessionHarness.bufferSize + Limits.queueHeadroom
        adjust(&limits)
        var mapConfig = MapConfig()
        mapConfig.breaker.failures = breakerFailures
        mapConfig.breaker.backoff = 30
        adjustMap(&mapConfig)
        var listener = ListenerConfig(
            name: "imap", proto: .imap, listen: [SocketAddressSpec(host: "127.0.0.1", port: 1143)], tls: tls,
            backend: BackendEndpointConfig(port: 143, tls: .none))
        adjustListener(&listener)
        self.listener = listener
        var serverTLS: ServerTLSConfig?
        if tls != .none {
            let files = try TestCertificate.get()
            serverTLS = ServerTLSConfig(certificate: files.certificate, key: files.key)
        }
        let config = PosternConfig(
            sourcePath: "/test/postern.yaml", server: ServerSettings(), listeners: [listener], tls: serverTLS,
            backendTLS: BackendTLSConfig(), map: mapConfig, limits: limits)
        runtime = try Runtime(config: config, generation: 1, map: map, dialler: dialler)
        stats.configure(runtime)
        shard.queue.setSpecific(key: SessionHarness.onShard, value: true)
        let guards = guards ?? SessionGuards(limits: limits, clock: SessionMapClock(clock: clock), jitter: { 0 })
        self.guards = guards
        let context = SessionContext(
            shard: shard, runtime: runtime, listener: listener, stats: stats, logger: logs.logger(),
            dialler: dialler, clock: clock, guards: guards, timer: timer, backends: backends)
        session = Session(
            id: "t1", client: client, clientAddress: "\(peer):50000", localAddress: SessionHarness.localAddress,
            context: context, frontEnd: frontEnd,
            onEnd: { [weak self] _ in self?.ended += 1 })
    }

    /// Runs `body` on the shard's queue (after everything queued there before); directly when already there.
    @discardableResult
    func run<T>(_ body: () throws -> T) rethrows -> T {
        if DispatchQueue.getSpecific(key: SessionHarness.onShard) != nil { return try body() }
        return try shard.queue.sync(execute: body)
    }

    private static let onShard = DispatchSpecificKey<Bool>()

    func start() { run { session.start() } }

    /// Moves the clock and lets the session check its deadlines.
    func advance(_ seconds: Double) {
        run {
            clock.advance(seconds)
            session.tick(now: clock.now())
        }
    }

    func send(_ text: String) { run { client.receive(text) } }

    /// Moves the clock without a tick and fires the timers that are due then; returns how many fired.
    @discardableResult
    func fireTimers(after seconds: Double) -> Int {
        run {
            clock.advance(seconds)
            return timer.fire(upTo: clock.now())
        }
    }

    var outcome: SessionOutcome? { run { session.outcome } }
    var clientText: String { run { client.text } }

    /// Waits (bounded) for something that happens after a hop through the map's task.
    func waitUntil(
        _ what: String, file: StaticString = #filePath, line: UInt = #line, _ condition: () -> Bool
    ) {
        for _ in 0..<5000 {
            if run(condition) { return }
            usleep(1000)
        }
        XCTFail("gave up waiting for \(what)", file: file, line: line)
    }

    /// Answers the map's lookup for `user` with these servers, and waits until the session took the answer.
    func route(_ user: String, to servers: [String], file: StaticString = #filePath, line: UInt = #line) {
        waitUntil("the lookup of \(user)", file: file, line: line) { map.isWaiting(for: user) }
        let before = run { dialler.resolves.count }
        map.answer(
            user, with: Route(servers: servers.map { BackendAddress.parse($0)! }, reason: "test map"))
        waitUntil("the route of \(user)", file: file, line: line) {
            dialler.resolves.count > before || !session.phaseIsRouting
        }
    }

    /// The client logs in as alice with her password.
    func loginAlice(tag: String = "a") { send("\(tag) LOGIN alice s3cret-pw\r\n") }

    /// The backend connection made last.
    var backend: FakeConnection { run { dialler.connections.last! } }

    /// The backend connects, greets with SASL-IR and PLAIN, and accepts the login.
    func backendAccepts(_ connection: FakeConnection) {
        run {
            connection.connect()
            connection.receive("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] ready\r\n")
        }
        XCTAssertTrue(run { connection.text.hasPrefix("P1 AUTHENTICATE PLAIN ") }, run { connection.text })
        run { connection.receive("P1 OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n") }
    }

    /// Alice logs in and ends up relayed to `192.0.2.10:143`.
    func relayAlice() {
        start()
        loginAlice()
        route("alice", to: ["a.example"])
        run { dialler.answer(0, addresses: ["192.0.2.10"]) }
        backendAccepts(backend)
        XCTAssertTrue(run { session.phaseIsRelaying })
    }
}

extension Session {
    var phaseIsDialling: Bool {
        if case .dialling = phase { return true }
        return false
    }

    var phaseIsRelaying: Bool {
        if case .relaying = phase { return true }
        return false
    }

    var phaseIsRouting: Bool {
        if case .routing = phase { return true }
        return false
    }

    var dialler: BackendDialler? {
        if case .dialling(let dialler) = phase { return dialler }
        return nil
    }
}
