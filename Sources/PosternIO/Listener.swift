internal import CPosternEpoll
import Dispatch
import Glibc

/// A listening socket that accepts until EAGAIN (`accept4`, non-blocking and close-on-exec in one call) and
/// hands each new connection to a shard. TCP_NODELAY (and a `keepalive` given here) is set once, on the
/// listening socket: Linux copies it to every socket `accept` gives (SocketTests checks that it does), which
/// saves a `setsockopt` per connection. The server passes no keepalive: it applies the one of the
/// configuration in service to each accepted socket, so that a reload changes it for new connections.
public final class Listener: @unchecked Sendable {
    public let address: SocketAddress
    private let fd: Int32
    private let queue: DispatchQueue
    private let loop: EventLoop
    private let onAccept: @Sendable (Int32, SocketAddress?, EventShard) -> Void
    private let onError: @Sendable (String) -> Void
    private var source: (any DispatchSourceRead)?
    private var suspended = false

    /// Binds now (so a bad address fails at start-up); accepting begins with `start()`.
    /// `onAccept` runs on the chosen shard's queue with a non-blocking fd, with TCP_NODELAY and (if given)
    /// `keepalive`, inherited from the listening socket.
    public init(
        address: SocketAddress, loop: EventLoop, keepalive: TCPKeepalive? = nil,
        onError: @escaping @Sendable (String) -> Void,
        onAccept: @escaping @Sendable (Int32, SocketAddress?, EventShard) -> Void
    ) throws(IOError) {
        let fd = try SocketOps.listen(on: address)
        SocketOps.setOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
        if let keepalive { SocketOps.setKeepalive(fd, keepalive) }
        self.fd = fd
        self.address = SocketOps.localAddress(fd) ?? address
        self.queue = DispatchQueue(label: "postern.listener.\(address)")
        self.loop = loop
        self.onAccept = onAccept
        self.onError = onError
    }

    public func start() {
        let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
        source.setEventHandler { self.acceptAll() }
        let fd = self.fd
        source.setCancelHandler { Glibc.close(fd) }
        self.source = source
        source.resume()
    }

    /// Stops accepting and closes the socket.
    public func stop() {
        queue.async {
            guard let source = self.source else { return }
            if self.suspended {
                self.suspended = false
                source.resume()
            }
            source.cancel()
            self.source = nil
        }
    }

    private func acceptAll() {
        for _ in 0..<1024 {
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let client = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    postern_accept_nonblocking(fd, $0, &length)
                }
            }
            if client < 0 {
                let code = errno
                if code == EAGAIN || code == EWOULDBLOCK { return }
                if code == EINTR || code == ECONNABORTED { continue }
                onError("accept on \(address): \(String(cString: strerror(code)))")
                if code == EMFILE || code == ENFILE || code == ENOBUFS || code == ENOMEM {
                    // Out of descriptors: back off instead of spinning on a level-triggered source.
                    guard let source, !suspended else { return }
                    suspended = true
                    source.suspend()
                    queue.asyncAfter(deadline: .now() + .milliseconds(200)) {
                        if self.suspended, let source = self.source {
                            self.suspended = false
                            source.resume()
                        }
                    }
                }
                return
            }
            let peer = SocketAddress(storage: storage, length: length)
            let shard = loop.nextShard()
            let onAccept = self.onAccept
            shard.queue.async { onAccept(client, peer, shard) }
        }
    }
}
