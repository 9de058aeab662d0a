import Dispatch
import Foundation
import Glibc

@testable import PosternIO

/// Polls `condition` (on the test thread) until it holds or 10 s pass; returns whether it held. Only a
/// bound for waiting on other queues: no test asserts on how long anything took.
@discardableResult
func eventually(_ condition: () -> Bool) -> Bool {
    for _ in 0..<5000 {
        if condition() { return true }
        usleep(2000)
    }
    return condition()
}

/// Sockets, fds and shards for endpoint tests.
enum IOFixture {
    /// A connected AF_UNIX stream pair: `.endpoint` is non-blocking (for an `Endpoint`), `.peer` blocking
    /// with a 10 s receive timeout (for the test thread).
    static func socketPair() -> (endpoint: Int32, peer: Int32) {
        var fds: [Int32] = [0, 0]
        let rc = socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds)
        precondition(rc == 0, "socketpair: \(errno)")
        SocketOps.setNonBlocking(fds[0])
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fds[1], SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return (fds[0], fds[1])
    }

    /// Open fds of this process.
    static func openFDs() -> [Int32] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return names.compactMap { Int32($0) }
    }

    static func fdCount() -> Int { openFDs().count }

    /// Waits (at most 5 s) until the set of open descriptors has stayed the same for 300 ms.
    static func waitForSteadyFDs() {
        var last = openFDs().sorted()
        var steadySince = DispatchTime.now().uptimeNanoseconds
        let start = steadySince
        while DispatchTime.now().uptimeNanoseconds - steadySince < 300_000_000,
            DispatchTime.now().uptimeNanoseconds - start < 5_000_000_000
        {
            usleep(10_000)
            let now = openFDs().sorted()
            if now != last { (last, steadySince) = (now, DispatchTime.now().uptimeNanoseconds) }
        }
    }

    /// Duplicates stdin into every descriptor the open-file limit still allows, appending them to `fds`.
    static func takeEveryFreeFD(into fds: inout [Int32]) {
        while true {
            let fd = dup(0)
            if fd < 0 { return }
            fds.append(fd)
        }
    }

    /// Waits until the fd count is `expected` (cancel handlers run on the shard queue after `cancel`).
    static func waitForFDCount(_ expected: Int, shard: EventShard) -> Int {
        eventually {
            shard.queue.sync {}
            return fdCount() == expected
        }
        return fdCount()
    }

    /// The event loop the shared endpoint tests run on: `POSTERN_TEST_EVENT_LOOP=dispatch-epoll swift test
    /// --filter PosternIOTests` (or `epoll-thread`) runs them all on such shards (the default is dispatch
    /// sources). The tests named for epoll make their shards with an explicit kind.
    static let kind: EventLoopKind =
        ProcessInfo.processInfo.environment["POSTERN_TEST_EVENT_LOOP"].flatMap(EventLoopKind.init(rawValue:))
        ?? .dispatchSources

    /// A stopped shard (no timer) of `IOFixture.kind`, or of `kind` when given.
    static func shard(index: Int, readBufferSize: Int = 65536, kind: EventLoopKind? = nil) -> EventShard {
        EventShard(index: index, readBufferSize: readBufferSize, kind: kind ?? IOFixture.kind)
    }

    /// Shards that live as long as the process: their fds (an epoll shard's set) are never closed under a count.
    nonisolated(unsafe) private static var keptShards: [EventShard] = []

    /// libdispatch opens its own fds (epoll, eventfd, timers) on first use: do that, for both kinds of shard,
    /// before counting.
    static let warmedUp: Bool = {
        for kind in EventLoopKind.allCases {
            let shard = EventShard(index: 99, readBufferSize: 4096, kind: kind)
            keptShards.append(shard)
            let (fd, peer) = socketPair()
            let endpoint = Endpoint(fd: fd, shard: shard)
            shard.queue.sync { endpoint.start() }
            shard.queue.sync { endpoint.close() }
            Glibc.close(peer)
            eventually { shard.queue.sync { endpoint.fdReleased } }
        }
        return true
    }()

    /// Sends all of `bytes` from a blocking fd (MSG_NOSIGNAL: a closed peer is an error, not SIGPIPE).
    @discardableResult
    static func send(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL))
            }
            if sent <= 0 { return false }
            offset += sent
        }
        return true
    }

    static func send(_ fd: Int32, _ text: String) { send(fd, Array(text.utf8)) }

    /// Reads from a blocking fd until `count` bytes arrived, EOF, an error or the receive timeout.
    static func receive(_ fd: Int32, count: Int) -> [UInt8] {
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while result.count < count {
            let got = buffer.withUnsafeMutableBytes {
                Glibc.read(fd, $0.baseAddress!, min($0.count, count - result.count))
            }
            if got <= 0 { break }
            result.append(contentsOf: buffer[..<got])
        }
        return result
    }

    /// Writes junk into a non-blocking fd until the socket takes no more.
    static func fillSocket(_ fd: Int32) {
        let junk = [UInt8](repeating: 0x2E, count: 65536)
        for _ in 0..<10_000 {
            let written = junk.withUnsafeBytes { Glibc.write(fd, $0.baseAddress!, $0.count) }
            if written <= 0 { return }
        }
    }

    /// A TCP socket bound to 127.0.0.1 on a port the kernel picks, listening if asked (blocking).
    static func loopbackSocket(listening: Bool) -> (fd: Int32, address: SocketAddress) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        precondition(fd >= 0)
        let address = SocketAddress.numeric(host: "127.0.0.1", port: 0)!
        var storage = address.storage
        let rc = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, address.length) }
        }
        precondition(rc == 0, "bind: \(errno)")
        if listening { precondition(Glibc.listen(fd, 16) == 0) }
        return (fd, SocketOps.localAddress(fd)!)
    }

    /// Accepts one connection on a blocking listening socket (waiting at most 10 s).
    static func accept(_ listener: Int32) -> Int32? {
        var entry = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, 10_000) == 1 else { return nil }
        let fd = Glibc.accept(listener, nil, nil)
        return fd >= 0 ? fd : nil
    }
}
