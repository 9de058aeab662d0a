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

    /// Binds and listens; returns the fd.
    static func listen(on address: SocketAddress, backlog: Int32 = 1024) throws(IOError) -> Int32 {
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw IOError.errno("socket") }
        setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1)
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
        guard Glibc.listen(fd, backlog) == 0 else {
            let error = IOError.errno("listen \(address)")
            close(fd)
            throw error
        }
        setNonBlocking(fd)
        return fd
    }

    /// Closes with an RST (SO_LINGER 0), for sessions dropped as abusive.
    static func setAbortiveClose(_ fd: Int32) {
        var value = linger(l_onoff: 1, l_linger: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &value, socklen_t(MemoryLayout<linger>.size))
    }
}
