import Dispatch
import Glibc

/// One listening socket in one shard's epoll set (`EventLoopKind.dispatchEpoll` and `.epollThread`): the
/// shard accepts its own connections in its drain and starts their sessions there, with no hand-off to
/// another queue or thread. A `Listener` has one per shard, sharing its address through SO_REUSEPORT.
///
/// Confined to the shard's queue (so a back-off that ends after `stop()` finds the acceptor closed).
final class ShardAcceptor: @unchecked Sendable {
    /// Connections accepted per drain that finds some waiting; the rest are reported again (level-triggered).
    static let budget = 64
    /// How long accepting pauses after EMFILE, ENFILE, ENOBUFS or ENOMEM.
    static let backOff = DispatchTimeInterval.milliseconds(200)

    private enum State {
        case idle
        case accepting
        case backingOff
        case closed
    }

    let fd: Int32
    let shard: EventShard
    private let address: SocketAddress
    private let onAccept: @Sendable (Int32, SocketAddress?, EventShard) -> Void
    private let onError: @Sendable (String) -> Void
    private var state = State.idle

    init(
        fd: Int32, shard: EventShard, address: SocketAddress,
        onAccept: @escaping @Sendable (Int32, SocketAddress?, EventShard) -> Void,
        onError: @escaping @Sendable (String) -> Void
    ) {
        self.fd = fd
        self.shard = shard
        self.address = address
        self.onAccept = onAccept
        self.onError = onError
    }

    /// Puts the socket in the shard's epoll set. On the shard's queue.
    func start() {
        dispatchPrecondition(condition: .onQueue(shard.queue))
        guard case .idle = state else { return }
        register()
    }

    /// Takes the socket out of the set and closes it. On the shard's queue.
    func stop() {
        dispatchPrecondition(condition: .onQueue(shard.queue))
        if case .closed = state { return }
        shard.poller?.removeListening(fd)
        state = .closed
        Glibc.close(fd)
    }

    /// Runs `body` with the socket unless it is closed. On the shard's queue.
    func withOpenSocket(_ body: (Int32) -> Void) {
        dispatchPrecondition(condition: .onQueue(shard.queue))
        if case .closed = state { return }
        body(fd)
    }

    private func register() {
        do {
            // The set holds the acceptor until `stop()` takes the socket out.
            try shard.poller?.addListening(fd) { self.acceptReady() }
            state = .accepting
        } catch {
            onError("accept on \(address): \(error)")
            pause()
        }
    }

    /// Accepts up to `budget` connections and starts each on this shard.
    private func acceptReady() {
        for _ in 0..<ShardAcceptor.budget {
            switch SocketOps.acceptOne(fd) {
            case .accepted(let client, let peer): onAccept(client, peer, shard)
            case .empty: return
            case .again: continue
            case .exhausted(let message):
                onError("accept on \(address): \(message)")
                pause()
                return
            case .failed(let message):
                onError("accept on \(address): \(message)")
                return
            }
        }
    }

    /// Out of the set for `backOff`, then back in (unless stopped meanwhile).
    private func pause() {
        shard.poller?.removeListening(fd)
        state = .backingOff
        shard.queue.asyncAfter(deadline: .now() + ShardAcceptor.backOff) { [self] in
            guard case .backingOff = state else { return }
            register()
        }
    }
}
