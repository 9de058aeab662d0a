import Dispatch
import Glibc

/// A listening socket that accepts until EAGAIN and hands each new connection to a shard.
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
    /// `onAccept` runs on the chosen shard's queue with a non-blocking fd.
    public init(
        address: SocketAddress, loop: EventLoop, onError: @escaping @Sendable (String) -> Void,
        onAccept: @escaping @Sendable (Int32, SocketAddress?, EventShard) -> Void
    ) throws(IOError) {
        self.fd = try SocketOps.listen(on: address)
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
                    accept(fd, $0, &length)
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
            SocketOps.setNonBlocking(client)
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            SocketOps.setOption(client, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
            let peer = SocketAddress(storage: storage, length: length)
            let shard = loop.nextShard()
            let onAccept = self.onAccept
            shard.queue.async { onAccept(client, peer, shard) }
        }
    }
}

/// Starts outgoing connections; name resolution runs off the event loop.
public enum Connector {
    /// Resolves `host` on a background queue, then on `shard.queue` calls `completion` with the
    /// addresses or an error.
    public static func resolve(
        host: String, port: Int, shard: EventShard,
        completion: @escaping @Sendable (Result<[SocketAddress], IOError>) -> Void
    ) {
        // Numeric addresses need no lookup: answer on the shard directly.
        if let numeric = try? SocketAddress.resolve(host: host, port: port, numericOnly: true) {
            shard.queue.async { completion(.success(numeric)) }
            return
        }
        DispatchQueue.global().async {
            let result: Result<[SocketAddress], IOError>
            do throws(IOError) {
                result = .success(try SocketAddress.resolve(host: host, port: port))
            } catch {
                result = .failure(error)
            }
            shard.queue.async { completion(result) }
        }
    }

    /// Starts a non-blocking connect; the endpoint reports `endpointConnected` or a failure.
    public static func connect(to address: SocketAddress, shard: EventShard) throws(IOError) -> Endpoint {
        let fd = try SocketOps.startConnect(to: address)
        return Endpoint(fd: fd, shard: shard, connecting: true)
    }
}

extension Endpoint {
    /// The remote address of the socket, if it is connected.
    public var peerAddress: SocketAddress? { SocketOps.peerAddress(fd) }

    /// Makes the next close send a reset instead of a FIN.
    public func setAbortiveClose() { SocketOps.setAbortiveClose(fd) }
}
