import Dispatch
import Glibc
import PosternSync
import XCTest

@testable import PosternIO

/// Outgoing and accepted sockets: keepalive options, refused connects, local resource errors, numeric
/// addresses.
final class SocketTests: XCTestCase {
    private var shard: EventShard!

    override func setUp() {
        shard = IOFixture.shard(index: 3, readBufferSize: 4096)
    }

    private static func keepaliveOptions(_ fd: Int32) -> [Int32?] {
        [
            SocketOps.option(fd, SOL_SOCKET, SO_KEEPALIVE),
            SocketOps.option(fd, Int32(IPPROTO_TCP), TCP_KEEPIDLE),
            SocketOps.option(fd, Int32(IPPROTO_TCP), TCP_KEEPINTVL),
            SocketOps.option(fd, Int32(IPPROTO_TCP), TCP_KEEPCNT),
        ]
    }

    func testKeepaliveDefaultsAreDocumented() {
        XCTAssertEqual(TCPKeepalive(), TCPKeepalive(idle: 120, interval: 30, count: 4))
        XCTAssertEqual(TCPKeepalive.default, TCPKeepalive())
    }

    func testADialledSocketGetsTheKeepaliveOptions() throws {
        let (listener, address) = IOFixture.loopbackSocket(listening: true)
        defer { Glibc.close(listener) }
        let dialler = SystemDialler(keepalive: TCPKeepalive(idle: 61, interval: 7, count: 3))
        let connection = try dialler.connect(to: address, on: shard)
        let endpoint = try XCTUnwrap(connection as? Endpoint)
        XCTAssertEqual(SocketTests.keepaliveOptions(endpoint.fd), [1, 61, 7, 3])
        shard.queue.sync { endpoint.close() }

        let plain = try XCTUnwrap(try SystemDialler().connect(to: address, on: shard) as? Endpoint)
        XCTAssertEqual(SocketOps.option(plain.fd, SOL_SOCKET, SO_KEEPALIVE), 0, "no keepalive unless asked")
        shard.queue.sync { plain.close() }
    }

    func testAcceptedSocketsInheritTheListenersKeepaliveAndNoDelay() throws {
        let loop = EventLoop(workers: 1)
        let seen = DispatchSemaphore(value: 0)
        let options = OptionsBox()
        let listener = try Listener(
            address: SocketAddress.numeric(host: "127.0.0.1", port: 0)!, loop: loop,
            keepalive: TCPKeepalive(idle: 90, interval: 11, count: 5), onError: { _ in }
        ) { fd, _, _ in
            options.set(SocketTests.keepaliveOptions(fd) + [SocketOps.option(fd, Int32(IPPROTO_TCP), TCP_NODELAY)])
            Glibc.close(fd)
            seen.signal()
        }
        listener.start()
        defer { listener.stop() }
        XCTAssertNotEqual(listener.address.port, 0)

        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { Glibc.close(client) }
        var target = listener.address.storage
        let rc = withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, listener.address.length) }
        }
        XCTAssertEqual(rc, 0)
        XCTAssertEqual(seen.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(options.get(), [1, 90, 11, 5, 1], "inherited from the listening socket, TCP_NODELAY too")
    }

    func testTheAddressAcceptGaveIsThePeerAddress() {
        let (fd, peer) = IOFixture.socketPair()
        defer { Glibc.close(peer) }
        let given = SocketAddress.numeric(host: "192.0.2.7", port: 40000)!
        let endpoint = Endpoint(fd: fd, shard: shard, peer: given)
        XCTAssertEqual(endpoint.peerAddress, given, "no getpeername: a socket pair's would be AF_UNIX")
        let (otherFD, otherPeer) = IOFixture.socketPair()
        defer { Glibc.close(otherPeer) }
        let plain = Endpoint(fd: otherFD, shard: shard)
        XCTAssertNotEqual(plain.peerAddress, given, "without one, the socket is asked")
    }

    func testConnectingToAClosedLoopbackPortIsRefused() throws {
        // Bound but not listening: the port stays ours, and a connect to it gets a reset.
        let (closed, address) = IOFixture.loopbackSocket(listening: false)
        defer { Glibc.close(closed) }
        let delegate = RecordingDelegate()
        let failure: IOError
        do {
            let connection = try SystemDialler().connect(to: address, on: shard)
            connection.delegate = delegate
            shard.queue.sync { connection.start() }
            XCTAssertTrue(eventually { delegate.failure != nil })
            failure = try XCTUnwrap(delegate.failure)
            XCTAssertFalse(delegate.events.contains(.connected))
            XCTAssertTrue(shard.queue.sync { connection.isClosed })
        } catch let error as IOError {
            failure = error  // a connect may also fail at once
        }
        XCTAssertEqual(failure.kind, .refused, failure.message)
        XCTAssertEqual(failure.code, ECONNREFUSED)
        XCTAssertFalse(failure.isLocal)
    }

    func testRunningOutOfDescriptorsIsALocalResourceFailure() throws {
        let (listener, address) = IOFixture.loopbackSocket(listening: true)
        defer { Glibc.close(listener) }
        var saved = rlimit()
        XCTAssertEqual(getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &saved), 0)
        // Lower the limit to just above the highest open fd and fill the holes below it.
        let highest = try XCTUnwrap(IOFixture.openFDs().max())
        var lowered = saved
        lowered.rlim_cur = rlim_t(highest + 1)
        XCTAssertEqual(setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &lowered), 0)
        var fillers: [Int32] = []
        var result: Result<any Connection, IOError>?
        while fillers.count <= Int(highest) {
            let fd = dup(0)
            if fd < 0 { break }
            fillers.append(fd)
        }
        let dupErrno = errno
        result = Result { () throws(IOError) in try SystemDialler().connect(to: address, on: shard) }
        for fd in fillers { Glibc.close(fd) }
        XCTAssertEqual(setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &saved), 0)

        XCTAssertEqual(dupErrno, EMFILE)
        guard case .failure(let error)? = result else { return XCTFail("connect succeeded with no fds left") }
        XCTAssertEqual(error.kind, .localResource, error.message)
        XCTAssertEqual(error.code, EMFILE)
        XCTAssertTrue(error.isLocal)
    }

    func testErrnoClassification() {
        for code in [EMFILE, ENFILE, ENOBUFS, ENOMEM] {
            XCTAssertEqual(IOError.kind(forErrno: code), .localResource, "\(code)")
            XCTAssertTrue(IOError.errno("socket", code).isLocal)
        }
        XCTAssertEqual(IOError.kind(forErrno: ECONNRESET), .reset)
        XCTAssertEqual(IOError.kind(forErrno: EPIPE), .reset)
        XCTAssertEqual(IOError.kind(forErrno: ETIMEDOUT), .timeout)
        XCTAssertEqual(IOError.kind(forErrno: ECONNREFUSED), .refused)
        XCTAssertEqual(IOError.kind(forErrno: EHOSTUNREACH), .unreachable)
        XCTAssertEqual(IOError.errno("socket", EMFILE).message, "socket: Too many open files")
        // connect() running out of local ports is ours too; other connect errors keep their class.
        XCTAssertEqual(SocketOps.connectError("connect", EADDRNOTAVAIL).kind, .localResource)
        XCTAssertEqual(SocketOps.connectError("connect", ENOBUFS).kind, .localResource)
        XCTAssertEqual(SocketOps.connectError("connect", ECONNREFUSED).kind, .refused)
        XCTAssertEqual(SocketOps.connectError("connect", ENETUNREACH).kind, .unreachable)
    }

    func testNumericAddressesParseWithoutAResolver() throws {
        let v4 = try XCTUnwrap(SocketAddress.numeric(host: "192.0.2.7", port: 143))
        XCTAssertEqual(v4.family, AF_INET)
        XCTAssertEqual(v4.host, "192.0.2.7")
        XCTAssertEqual(v4.port, 143)
        XCTAssertEqual(v4.description, "192.0.2.7:143")
        let v6 = try XCTUnwrap(SocketAddress.numeric(host: "2001:db8::1", port: 993))
        XCTAssertEqual(v6.family, AF_INET6)
        XCTAssertEqual(v6.description, "[2001:db8::1]:993")
        XCTAssertEqual(v6, try SocketAddress.resolve(host: "2001:db8::1", port: 993, numericOnly: true).first)
        XCTAssertNil(SocketAddress.numeric(host: "imap.example.org", port: 143))
        XCTAssertNil(SocketAddress.numeric(host: "[::1]", port: 143))
        XCTAssertNil(SocketAddress.numeric(host: "127.0.0.1", port: 70000))
        XCTAssertNil(SocketAddress.numeric(host: "", port: 143))
    }

    /// An address is kept in a `sockaddr_in6`'s room: what `accept` or `getaddrinfo` gave (an IPv6 address
    /// with its flow label and scope too) comes back byte for byte for `bind` and `connect`, and an IPv4 one
    /// with its own length.
    func testAnAddressComesBackAsItWasGiven() throws {
        var v6 = sockaddr_in6()
        v6.sin6_family = sa_family_t(AF_INET6)
        v6.sin6_port = UInt16(4190).bigEndian
        v6.sin6_flowinfo = 0x1234
        v6.sin6_scope_id = 7
        XCTAssertEqual(inet_pton(AF_INET6, "fe80::1", &v6.sin6_addr), 1)
        var given = sockaddr_storage()
        withUnsafeMutableBytes(of: &given) { target in withUnsafeBytes(of: v6) { target.copyMemory(from: $0) } }
        let address = SocketAddress(storage: given, length: socklen_t(MemoryLayout<sockaddr_in6>.size))
        XCTAssertEqual(address.family, AF_INET6)
        XCTAssertEqual(address.port, 4190)
        XCTAssertEqual(Int(address.length), MemoryLayout<sockaddr_in6>.size)
        let back = withUnsafeBytes(of: address.storage) { Array($0.prefix(MemoryLayout<sockaddr_in6>.size)) }
        XCTAssertEqual(back, withUnsafeBytes(of: v6) { Array($0) })
        let v4 = try XCTUnwrap(SocketAddress.numeric(host: "198.51.100.9", port: 110))
        XCTAssertEqual(Int(v4.length), MemoryLayout<sockaddr_in>.size)
        XCTAssertEqual(SocketAddress(storage: v4.storage, length: v4.length), v4)
        XCTAssertEqual(SocketAddress(storage: v4.storage, length: v4.length).description, "198.51.100.9:110")
    }
}

/// Keepalive options read on a listener's shard, handed to the test thread.
final class OptionsBox: Sendable {
    private let value = Mutex<[Int32?]>([])
    func set(_ options: [Int32?]) { value.withLock { $0 = options } }
    func get() -> [Int32?] { value.withLock { $0 } }
}
