import Dispatch
import Glibc

/// A listening address that accepts with `accept4` (non-blocking and close-on-exec in one call) and starts
/// each new connection on a shard. On an epoll event loop every shard has a socket of its own for the address
/// (SO_REUSEPORT: the kernel spreads connections over them) in its own epoll set, and accepts in its own drain
/// (`ShardAcceptor`): no queue hop or thread hand-off per connection. With `dispatch-sources` one socket and
/// a DispatchSource on a queue of its own accept, and each connection goes to the next shard with a block.
///
/// TCP_NODELAY and the `keepalive` given here are set once, on the listening sockets: Linux copies them to
/// every socket `accept` gives (ListenerTests and SocketTests check that it does), which saves five
/// `setsockopt` calls per connection. A reload that changes the keepalive sets it again on the listening
/// sockets (`setKeepalive`).
public final class Listener: @unchecked Sendable {
    public let address: SocketAddress
    private let loop: EventLoop
    private let onAccept: @Sendable (Int32, SocketAddress?, EventShard) -> Void
    private let onError: @Sendable (String) -> Void
    private let accepting: Accepting

    /// How connections are accepted: per shard, or by one source (see the type's comment).
    private enum Accepting {
        case shards([ShardAcceptor])
        case source(SourceAccept)
    }

    /// The `dispatch-sources` way: one socket, its DispatchSource and the queue it runs on (touched there only).
    private final class SourceAccept: @unchecked Sendable {
        let fd: Int32
        let queue: DispatchQueue
        var source: (any DispatchSourceRead)?
        var suspended = false
        var stopped = false

        init(fd: Int32, queue: DispatchQueue) {
            self.fd = fd
            self.queue = queue
        }
    }

    /// Binds now (so a bad address fails at start-up); accepting begins with `start()`.
    /// `onAccept` runs on the chosen shard's queue with a non-blocking fd, with TCP_NODELAY and (if given)
    /// `keepalive`, inherited from the listening socket.
    public init(
        address: SocketAddress, loop: EventLoop, keepalive: TCPKeepalive? = nil,
        onError: @escaping @Sendable (String) -> Void,
        onAccept: @escaping @Sendable (Int32, SocketAddress?, EventShard) -> Void
    ) throws(IOError) {
        let shards = loop.shards
        let fds: [Int32]
        let bound: SocketAddress
        if shards.first?.poller == nil || shards.count == 1 {
            let fd = try SocketOps.listen(on: address)
            fds = [fd]
            bound = SocketOps.localAddress(fd) ?? address
        } else {
            (fds, bound) = try SocketOps.listenGroup(on: address, count: shards.count)
        }
        for fd in fds {
            SocketOps.setOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
            if let keepalive { SocketOps.setKeepalive(fd, keepalive) }
        }
        self.address = bound
        self.loop = loop
        self.onAccept = onAccept
        self.onError = onError
        if shards.first?.poller == nil {
            accepting = .source(SourceAccept(fd: fds[0], queue: DispatchQueue(label: "postern.listener.\(bound)")))
        } else {
            accepting = .shards(
                zip(fds, shards).map { fd, shard in
                    ShardAcceptor(fd: fd, shard: shard, address: bound, onAccept: onAccept, onError: onError)
                })
        }
    }

    public func start() {
        switch accepting {
        case .shards(let acceptors):
            for acceptor in acceptors { acceptor.shard.queue.async { acceptor.start() } }
        case .source(let state):
            let source = DispatchSource.makeReadSource(fileDescriptor: state.fd, queue: state.queue)
            source.setEventHandler { self.acceptAll(state) }
            let fd = state.fd
            source.setCancelHandler { Glibc.close(fd) }
            state.source = source
            source.resume()
        }
    }

    /// Sets (or, with nil, turns off) TCP keepalive on the listening sockets, which connections accepted from
    /// now on inherit (each on the queue that owns the socket, so never on one already closed). A connection
    /// already waiting in the backlog keeps the options it was made with.
    public func setKeepalive(_ keepalive: TCPKeepalive?) {
        let apply: @Sendable (Int32) -> Void = { fd in
            if let keepalive {
                SocketOps.setKeepalive(fd, keepalive)
            } else {
                SocketOps.setOption(fd, SOL_SOCKET, SO_KEEPALIVE, 0)
            }
        }
        switch accepting {
        case .shards(let acceptors):
            for acceptor in acceptors { acceptor.shard.queue.async { acceptor.withOpenSocket(apply) } }
        case .source(let state):
            // The listener queue only ever accepts, so waiting for it here is short.
            state.queue.sync { if !state.stopped { apply(state.fd) } }
        }
    }

    /// Stops accepting and closes the sockets.
    public func stop() {
        switch accepting {
        case .shards(let acceptors):
            for acceptor in acceptors { acceptor.shard.queue.async { acceptor.stop() } }
        case .source(let state):
            state.queue.async {
                state.stopped = true
                guard let source = state.source else { return }
                if state.suspended {
                    state.suspended = false
                    source.resume()
                }
                source.cancel()
                state.source = nil
            }
        }
    }

    /// The `dispatch-sources` way: accepts until EAGAIN (at most 1,024) and sends each to the next shard.
    private func acceptAll(_ state: SourceAccept) {
        for _ in 0..<1024 {
            switch SocketOps.acceptOne(state.fd) {
            case .accepted(let client, let peer):
                let shard = loop.nextShard()
                let onAccept = self.onAccept
                shard.queue.async { onAccept(client, peer, shard) }
            case .empty: return
            case .again: continue
            case .exhausted(let message):
                onError("accept on \(address): \(message)")
                // Out of descriptors: back off instead of spinning on a level-triggered source.
                guard let source = state.source, !state.suspended else { return }
                state.suspended = true
                source.suspend()
                state.queue.asyncAfter(deadline: .now() + .milliseconds(200)) {
                    if state.suspended, let source = state.source {
                        state.suspended = false
                        source.resume()
                    }
                }
                return
            case .failed(let message):
                onError("accept on \(address): \(message)")
                return
            }
        }
    }
}
