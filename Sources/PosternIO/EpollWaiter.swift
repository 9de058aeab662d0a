internal import CPosternEpoll
import Dispatch
import Glibc
import PosternSync

/// The thread of an `EventLoopKind.epollThread` shard: it sleeps in `epoll_wait` on the shard's epoll set and runs
/// the shard's drain of what it fetched with `dispatch_sync` on the shard's serial queue. libdispatch runs a synchronous block on
/// the calling thread when the queue is free, so readiness reaches the session code on the thread the kernel
/// woke, with no hand-off to a worker thread; when the queue is busy (a timer, an answer from a map lookup)
/// the drain waits its turn like any other block. Everything else stays on the queue.
///
/// The thread owns the epoll fd from its start: it closes it when it stops. `stop()` wakes it through an eventfd
/// in the set (token `stopToken`, which no endpoint or listening socket has: its fd half is -1).
final class EpollWaiter: Sendable {
    private let stopFD: Int32
    /// The token of the stop eventfd in the epoll set.
    static let stopToken = UInt64.max
    /// The thread's `pthread_self()`, once it runs (0 before).
    let thread = Atomic<UInt>(0)

    /// Starts the thread for `epollFD`, named `postern-epoll-INDEX`; `drain` runs on `queue` with the events
    /// fetched (at most `EpollPoller.batch`). Failing to make the eventfd or the thread at start-up is fatal: no
    /// event could ever be delivered.
    init(
        epollFD: Int32, index: Int, queue: DispatchQueue,
        drain: @escaping @Sendable (UnsafePointer<postern_epoll_ready>, Int) -> Void
    ) {
        let stopFD = postern_eventfd()
        guard stopFD >= 0 else { fatalError("eventfd: \(String(cString: strerror(errno)))") }
        guard postern_epoll_add(epollFD, stopFD, postern_epollin, EpollWaiter.stopToken) == 0 else {
            fatalError("epoll_ctl for the stop eventfd: \(String(cString: strerror(errno)))")
        }
        self.stopFD = stopFD
        let name = "postern-epoll-\(index)"
        EpollWaiter.spawn { [self] in
            thread.store(UInt(pthread_self()), ordering: .releasing)
            postern_name_thread(name)
            EpollWaiter.run(epollFD: epollFD, queue: queue, drain: drain)
            _ = Glibc.close(stopFD)
            _ = Glibc.close(epollFD)
        }
    }

    /// Ends the thread after its current drain (it then closes the epoll fd and the eventfd). Called once, by
    /// the poller.
    func stop() {
        var one: UInt64 = 1
        _ = Glibc.write(stopFD, &one, 8)
    }

    private static func run(
        epollFD: Int32, queue: DispatchQueue, drain: (UnsafePointer<postern_epoll_ready>, Int) -> Void
    ) {
        let ready = UnsafeMutablePointer<postern_epoll_ready>.allocate(capacity: EpollPoller.batch)
        defer { ready.deallocate() }
        while true {
            let count = Int(postern_epoll_wait(epollFD, ready, Int32(EpollPoller.batch), -1))
            if count < 0 { fatalError("epoll_wait: \(String(cString: strerror(errno)))") }
            for index in 0..<count where ready[index].token == EpollWaiter.stopToken { return }
            queue.sync { drain(ready, count) }
        }
    }

    /// A detached thread running `body`.
    private static func spawn(_ body: @escaping @Sendable () -> Void) {
        final class Box: Sendable {
            let body: @Sendable () -> Void
            init(_ body: @escaping @Sendable () -> Void) { self.body = body }
        }
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(
            &thread, nil,
            { raw in
                Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue().body()
                return nil
            }, box)
        guard status == 0 else { fatalError("pthread_create: \(String(cString: strerror(status)))") }
        pthread_detach(thread)
    }
}
