import Dispatch
import Glibc
import PosternSync
import XCTest

@testable import PosternIO

/// Listeners on the epoll event loops: a socket per shard (SO_REUSEPORT), accepted in that shard's own drain;
/// a busy address refused as for one socket; stopping closes every socket; running out of descriptors backs
/// off and then accepts again.
final class ListenerTests: XCTestCase {
    /// Where each accepted connection was started: the shard, and whether that shard was in an epoll drain.
    private final class Accepts: Sendable {
        private let seen = Mutex<[(shard: Int, inDrain: Bool)]>([])
        private let errors = Mutex<[String]>([])
        func add(_ shard: EventShard) {
            let inDrain = shard.poller?.draining ?? false
            seen.withLock { $0.append((shard.index, inDrain)) }
        }
        func error(_ message: String) { errors.withLock { $0.append(message) } }
        var all: [(shard: Int, inDrain: Bool)] { seen.withLock { $0 } }
        var messages: [String] { errors.withLock { $0 } }
    }

    private static let any = SocketAddress.numeric(host: "127.0.0.1", port: 0)!

    private func listener(_ loop: EventLoop, _ accepts: Accepts, keepalive: TCPKeepalive? = nil) throws -> Listener {
        try Listener(address: ListenerTests.any, loop: loop, keepalive: keepalive, onError: accepts.error) {
            fd, _, shard in
            dispatchPrecondition(condition: .onQueue(shard.queue))
            accepts.add(shard)
            Glibc.close(fd)
        }
    }

    /// A blocking client connected to `address` (nil if the connect failed).
    private func connectClient(_ address: SocketAddress) -> Int32? {
        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var target = address.storage
        let rc = withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, address.length) }
        }
        if rc == 0 { return client }
        Glibc.close(client)
        return nil
    }

    func testEachShardAcceptsOnItsOwnSocketInItsOwnDrain() throws {
        for kind in [EventLoopKind.dispatchEpoll, .epollThread] {
            let loop = EventLoop(workers: 2, kind: kind)
            let accepts = Accepts()
            let listener = try listener(loop, accepts)
            listener.start()
            defer { listener.stop() }
            XCTAssertNotEqual(listener.address.port, 0, "\(kind)")
            // 64 connections from 64 source ports: the kernel's hash sends some to each socket of the group.
            var clients: [Int32] = []
            for _ in 0..<64 { if let client = connectClient(listener.address) { clients.append(client) } }
            defer { for client in clients { Glibc.close(client) } }
            XCTAssertEqual(clients.count, 64, "\(kind)")
            XCTAssertTrue(eventually { accepts.all.count == 64 }, "\(kind): \(accepts.all.count) accepted")
            XCTAssertEqual(Set(accepts.all.map(\.shard)), [0, 1], "\(kind): both shards accept")
            XCTAssertTrue(accepts.all.allSatisfy(\.inDrain), "\(kind): started in the drain, not in a block of its own")
            XCTAssertEqual(accepts.messages, [], "\(kind)")
        }
    }

    func testEverySocketOfTheGroupPassesOnTheOptions() throws {
        let loop = EventLoop(workers: 2, kind: .dispatchEpoll)
        let options = Mutex<Set<[Int32?]>>([])
        let shards = Mutex<Set<Int>>([])
        let listener = try Listener(
            address: ListenerTests.any, loop: loop, keepalive: TCPKeepalive(idle: 90, interval: 11, count: 5),
            onError: { _ in }
        ) { fd, _, shard in
            let read = [
                SocketOps.option(fd, SOL_SOCKET, SO_KEEPALIVE), SocketOps.option(fd, Int32(IPPROTO_TCP), TCP_KEEPIDLE),
                SocketOps.option(fd, Int32(IPPROTO_TCP), TCP_NODELAY),
            ]
            options.withLock { _ = $0.insert(read) }
            shards.withLock { _ = $0.insert(shard.index) }
            Glibc.close(fd)
        }
        listener.start()
        defer { listener.stop() }
        var clients: [Int32] = []
        defer { for client in clients { Glibc.close(client) } }
        for _ in 0..<64 { if let client = connectClient(listener.address) { clients.append(client) } }
        XCTAssertTrue(eventually { shards.withLock { $0.count } == 2 })
        XCTAssertEqual(options.withLock { $0 }, [[1, 90, 1]], "the same options from both sockets")
    }

    func testANewKeepaliveReachesConnectionsAcceptedAfterIt() throws {
        for kind in [EventLoopKind.dispatchEpoll, .dispatchSources] {
            let loop = EventLoop(workers: 2, kind: kind)
            let seen = Mutex<[[Int32?]]>([])
            let listener = try Listener(
                address: ListenerTests.any, loop: loop, keepalive: TCPKeepalive(idle: 90, interval: 11, count: 5),
                onError: { _ in }
            ) { fd, _, _ in
                let options = [
                    SocketOps.option(fd, Int32(IPPROTO_TCP), TCP_KEEPIDLE),
                    SocketOps.option(fd, SOL_SOCKET, SO_KEEPALIVE),
                ]
                seen.withLock { $0.append(options) }
                Glibc.close(fd)
            }
            listener.start()
            defer { listener.stop() }
            var clients: [Int32] = []
            defer { for client in clients { Glibc.close(client) } }
            func acceptedOptions() -> Set<[Int32?]> {
                seen.withLock { $0 = [] }
                for _ in 0..<16 { if let client = connectClient(listener.address) { clients.append(client) } }
                XCTAssertTrue(eventually { seen.withLock { $0.count } == 16 }, "\(kind)")
                return Set(seen.withLock { $0 })
            }
            XCTAssertEqual(acceptedOptions(), [[90, 1]], "\(kind)")
            listener.setKeepalive(TCPKeepalive(idle: 45, interval: 11, count: 5))
            for shard in loop.shards { shard.queue.sync {} }
            XCTAssertEqual(acceptedOptions(), [[45, 1]], "\(kind): every socket took the new one")
            listener.setKeepalive(nil)
            for shard in loop.shards { shard.queue.sync {} }
            XCTAssertEqual(acceptedOptions().map { $0[1] }, [0], "\(kind): off")
        }
    }

    func testABusyAddressIsRefusedThoughTheGroupSharesItsPort() throws {
        let loop = EventLoop(workers: 2, kind: .dispatchEpoll)
        let accepts = Accepts()
        let first = try listener(loop, accepts)
        first.start()
        defer { first.stop() }
        let again = SocketAddress.numeric(host: "127.0.0.1", port: first.address.port)!
        XCTAssertThrowsError(try Listener(address: again, loop: loop, onError: { _ in }) { fd, _, _ in close(fd) }) {
            XCTAssertEqual(($0 as? IOError)?.code, EADDRINUSE, "\($0)")
        }
        // A lone socket (one shard) on the same port is refused too, and so is the group against a lone one.
        let single = EventLoop(workers: 1, kind: .dispatchEpoll)
        XCTAssertThrowsError(try Listener(address: again, loop: single, onError: { _ in }) { fd, _, _ in close(fd) })
    }

    func testStoppingClosesEveryShardsSocket() throws {
        let loop = EventLoop(workers: 2, kind: .epollThread)
        let before = IOFixture.fdCount()
        let accepts = Accepts()
        let listener = try listener(loop, accepts)
        let address = listener.address
        listener.start()
        XCTAssertEqual(IOFixture.fdCount(), before + 2, "one socket per shard")
        listener.stop()
        XCTAssertTrue(
            eventually {
                for shard in loop.shards { shard.queue.sync {} }
                return IOFixture.fdCount() == before
            })
        XCTAssertNil(connectClient(address), "nothing listens any more")
        XCTAssertEqual(accepts.all.count, 0)
    }

    func testRunningOutOfDescriptorsBacksOffAndThenAccepts() throws {
        let loop = EventLoop(workers: 1, kind: .dispatchEpoll)
        let accepts = Accepts()
        let listener = try listener(loop, accepts)
        listener.start()
        defer { listener.stop() }
        loop.shards[0].queue.sync {}
        var saved = rlimit()
        XCTAssertEqual(getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &saved), 0)
        // Objects of earlier tests may still close descriptors from their own threads (an epoll waiter
        // that stops); one closed after the fill below would let the accept through.
        IOFixture.waitForSteadyFDs()

        var clients: [Int32] = []
        defer { for fd in clients { Glibc.close(fd) } }
        var metEMFILE = false
        // A descriptor freed behind the test's back despite the wait ends an attempt with an accepted
        // connection; three attempts, each with a new client.
        for _ in 0..<3 where !metEMFILE {
            let acceptedBefore = accepts.all.count
            let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            clients.append(client)
            var target = listener.address.storage
            let length = listener.address.length
            var fillers: [Int32] = []
            // Hold the shard while every descriptor is taken, so that its accept meets EMFILE.
            loop.shards[0].queue.sync {
                var lowered = saved
                lowered.rlim_cur = rlim_t((IOFixture.openFDs().max() ?? 1024) + 1)
                _ = setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &lowered)
                IOFixture.takeEveryFreeFD(into: &fillers)
                // Connected (the kernel completes it into the backlog) while the shard cannot accept yet.
                let rc = withUnsafePointer(to: &target) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, length) }
                }
                XCTAssertEqual(rc, 0)
                IOFixture.takeEveryFreeFD(into: &fillers)
            }
            XCTAssertTrue(
                eventually { !accepts.messages.isEmpty || accepts.all.count > acceptedBefore },
                "neither accepted nor failed")
            metEMFILE = !accepts.messages.isEmpty
            if metEMFILE { XCTAssertEqual(accepts.all.count, acceptedBefore, "accepted with no descriptor free") }
            for fd in fillers { Glibc.close(fd) }
            XCTAssertEqual(setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &saved), 0)
            if metEMFILE {
                XCTAssertTrue(
                    eventually { accepts.all.count == acceptedBefore + 1 }, "accepted once descriptors are back")
            }
        }
        XCTAssertTrue(metEMFILE, "no attempt met EMFILE")
        XCTAssertTrue(accepts.messages.allSatisfy { $0.hasSuffix("Too many open files") }, "\(accepts.messages)")
        // One message per failed attempt: it backed off (200 ms) instead of spinning on the ready socket.
        XCTAssertLessThan(accepts.messages.count, 60, "\(accepts.messages.count) failed accepts")
    }
}
