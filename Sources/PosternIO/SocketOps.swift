internal import CPosternEpoll
import Glibc

/// The socket system calls the event loop makes, with errors classified.
enum SocketOps {
    static func setNonBlocking(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
    }

    static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) {
        var value = value
        _ = setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Turns keepalive on with these timings (clamped to what Linux accepts: 1...32767 s, 1...127 probes).
    static func setKeepalive(_ fd: Int32, _ keepalive: TCPKeepalive) {
        setOption(fd, SOL_SOCKET, SO_KEEPALIVE, 1)
        setOption(fd, Int32(IPPROTO_TCP), TCP_KEEPIDLE, Int32(min(max(keepalive.idle, 1), 32767)))
        setOption(fd, Int32(IPPROTO_TCP), TCP_KEEPINTVL, Int32(min(max(keepalive.interval, 1), 32767)))
        setOption(fd, Int32(IPPROTO_TCP), TCP_KEEPCNT, Int32(min(max(keepalive.count, 1), 127)))
    }

    /// An integer socket option's value, or nil when it cannot be read.
    static func option(_ fd: Int32, _ level: Int32, _ name: Int32) -> Int32? {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(fd, level, name, &value, &length) == 0 ? value : nil
    }

    /// A failed `connect`, classified: besides the errno classes, EADDRNOTAVAIL and EAGAIN mean this host
    /// ran out of local ports, which is not the backend's fault.
    static func connectError(_ what: String, _ code: Int32) -> IOError {
        var error = IOError.errno(what, code)
        if code == EADDRNOTAVAIL || code == EAGAIN { error.kind = .localResource }
        return error
    }

    static func peerAddress(_ fd: Int32) -> SocketAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) }
        }
        return rc == 0 ? SocketAddress(storage: storage, length: length) : nil
    }

    static func localAddress(_ fd: Int32) -> SocketAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return rc == 0 ? SocketAddress(storage: storage, length: length) : nil
    }

    /// Creates a non-blocking TCP socket and starts connecting it. EMFILE, ENFILE, ENOBUFS and ENOMEM from
    /// `socket()` or `connect()` throw `.localResource`.
    static func startConnect(to address: SocketAddress, keepalive: TCPKeepalive? = nil) throws(IOError) -> Int32 {
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
        let fd = socket(address.family, type, 0)
        guard fd >= 0 else { throw IOError.errno("socket") }
        setOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
        if let keepalive { setKeepalive(fd, keepalive) }
        var storage = address.storage
        let rc = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, address.length) }
        }
        let code = errno
        if rc != 0 && code != EINPROGRESS && code != EINTR {
            close(fd)
            throw connectError("connect to \(address)", code)
        }
        return fd
    }

    /// Binds and listens; returns the fd. With `reusePort`, SO_REUSEPORT is set before binding, so that
    /// several such sockets share the address and the kernel spreads new connections over them.
    static func listen(
        on address: SocketAddress, backlog: Int32 = 1024, reusePort: Bool = false
    ) throws(IOError) -> Int32 {
        let fd = try bound(to: address, reusePort: reusePort)
        guard Glibc.listen(fd, backlog) == 0 else {
            let error = IOError.errno("listen \(address)")
            close(fd)
            throw error
        }
        setNonBlocking(fd)
        return fd
    }

    /// `count` listening sockets sharing `address` through SO_REUSEPORT (the port the kernel picked, for port
    /// 0), with the first one's local address. A socket bound without SO_REUSEPORT first finds the port and
    /// makes a conflict fail as it would for one socket: without it, a second server running as the same user
    /// would silently join the group and take half the connections.
    static func listenGroup(
        on address: SocketAddress, count: Int, backlog: Int32 = 1024
    ) throws(IOError) -> (fds: [Int32], address: SocketAddress) {
        let probe = try bound(to: address, reusePort: false)
        let actual = localAddress(probe) ?? address
        close(probe)
        var fds: [Int32] = []
        do {
            for _ in 0..<count { fds.append(try listen(on: actual, backlog: backlog, reusePort: true)) }
        } catch {
            for fd in fds { close(fd) }
            throw error
        }
        return (fds, actual)
    }

    /// A TCP socket bound to `address` (SO_REUSEADDR, IPv6-only for an IPv6 address), not listening yet.
    private static func bound(to address: SocketAddress, reusePort: Bool) throws(IOError) -> Int32 {
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw IOError.errno("socket") }
        setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1)
        if reusePort { setOption(fd, SOL_SOCKET, SO_REUSEPORT, 1) }
        if address.family == AF_INET6 { setOption(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1) }
        var storage = address.storage
        let rc = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, address.length) }
        }
        guard rc == 0 else {
            let error = IOError.errno("bind \(address)")
            close(fd)
            throw error
        }
        return fd
    }

    /// One `accept4` (non-blocking, close-on-exec) on listening socket `fd`.
    static func acceptOne(_ fd: Int32) -> AcceptResult {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let client = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { postern_accept_nonblocking(fd, $0, &length) }
        }
        if client >= 0 { return .accepted(client, SocketAddress(storage: storage, length: length)) }
        let code = errno
        if code == EAGAIN || code == EWOULDBLOCK { return .empty }
        if code == EINTR || code == ECONNABORTED { return .again }
        let message = String(cString: strerror(code))
        if code == EMFILE || code == ENFILE || code == ENOBUFS || code == ENOMEM { return .exhausted(message) }
        return .failed(message)
    }

    /// Closes with an RST (SO_LINGER 0), for sessions dropped as abusive.
    static func setAbortiveClose(_ fd: Int32) {
        var value = linger(l_onoff: 1, l_linger: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &value, socklen_t(MemoryLayout<linger>.size))
    }
}
