internal import CPosternEpoll
import Dispatch
import Glibc

/// A shard's epoll set (`EventLoopKind.dispatchEpoll` and `.epollThread`): each endpoint is registered
/// edge-triggered once for its lifetime; one DispatchSource on the epoll fd (or, for `.epollThread`, the
/// shard's `EpollWaiter` thread) wakes the shard's queue, which drains what is ready with
/// `epoll_wait(…, 0)` in bounded rounds (then yields, so timers and other work run in between).
///
/// Confined to the shard's queue. An endpoint's token is its fd with a serial number in the high half, so an
/// event fetched for a socket closed earlier in the same batch never reaches the endpoint that reused the fd.
/// Closing the fd removes it from the set (no `EPOLL_CTL_DEL`: nothing else holds the socket).
final class EpollPoller: @unchecked Sendable {
    /// Events fetched per `epoll_wait`, and rounds of it per wake before yielding.
    static let batch = 64
    static let rounds = 8
    /// Rounds of work deferred with `EventShard.soon` run at the end of one wake (work deferred by the last
    /// round goes to the queue as blocks of its own).
    static let deferredRounds = 16

    static let readable = postern_epollin | postern_epollrdhup | postern_epollerr | postern_epollhup
    static let writable = postern_epollout | postern_epollerr | postern_epollhup
    static let hungUp = postern_epollrdhup | postern_epollerr | postern_epollhup
    static let error = postern_epollerr
    /// What a failed connect raises (a successful one raises EPOLLOUT without these).
    static let connectFailed = postern_epollerr | postern_epollhup
    private static let registration =
        postern_epollin | postern_epollout | postern_epollrdhup | postern_epollet

    let fd: Int32
    private let queue: DispatchQueue
    private var source: (any DispatchSourceRead)?
    private var waiter: EpollWaiter?
    private var members: [Int32: Endpoint] = [:]
    /// Listening sockets in the set (level-triggered), by fd, with their tokens and what runs when one is ready.
    private var listening: [Int32: (token: UInt64, ready: () -> Void)] = [:]
    private var serial: UInt32 = 0
    private let ready: UnsafeMutablePointer<postern_epoll_ready>
    /// Endpoints to read again: their turn's budget ran out, or they were resumed with an edge unread.
    private var again: [Endpoint] = []
    private var againScheduled = false
    /// Work for the end of this wake (`EventShard.soon`), in order.
    private var deferred: [@Sendable () -> Void] = []
    /// Whether a wake (or a turn of reading again) is running: `soon` then defers to its end.
    private(set) var draining = false

    /// Creates the epoll set and starts its source on `queue` (with `thread`, shard `index`'s `EpollWaiter`
    /// instead). Failing to create an epoll fd at start-up (EMFILE, ENOMEM) is fatal: no event could ever be
    /// delivered.
    init(queue: DispatchQueue, thread: Bool = false, index: Int = 0) {
        let fd = postern_epoll_create()
        guard fd >= 0 else { fatalError("epoll_create1: \(String(cString: strerror(errno)))") }
        self.fd = fd
        self.queue = queue
        ready = .allocate(capacity: EpollPoller.batch)
        if thread {
            // The waiter closes the epoll fd when it stops.
            waiter = EpollWaiter(epollFD: fd, index: index, queue: queue) { [weak self] fetched, count in
                self?.drain(fetched: fetched, count: count)
            }
            return
        }
        let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
        source.setEventHandler { [weak self] in self?.drain() }
        // The epoll fd is closed only once libdispatch no longer watches it.
        source.setCancelHandler { _ = Glibc.close(fd) }
        source.resume()
        self.source = source
    }

    deinit {
        source?.cancel()
        waiter?.stop()
        ready.deallocate()
    }

    /// The `pthread_self()` of an `.epollThread` shard's waiter once it runs, else nil.
    var waiterThread: UInt? {
        guard let waiter else { return nil }
        let id = waiter.thread.load(ordering: .acquiring)
        return id == 0 ? nil : id
    }

    /// Number of registered endpoints.
    var count: Int { members.count }

    /// Adds `endpoint`'s socket (EPOLLIN, EPOLLOUT, EPOLLRDHUP, edge-triggered) and returns its token. A socket
    /// already readable or writable is reported at the next drain.
    func register(_ endpoint: Endpoint) throws(IOError) -> UInt64 {
        serial &+= 1
        let token = UInt64(serial) << 32 | UInt64(UInt32(bitPattern: endpoint.fd))
        guard postern_epoll_add(fd, endpoint.fd, EpollPoller.registration, token) == 0 else {
            throw IOError.errno("epoll_ctl")
        }
        members[endpoint.fd] = endpoint
        return token
    }

    /// Adds listening socket `fd`, level-triggered for EPOLLIN: `ready` runs in each drain that finds
    /// connections waiting (it need not accept them all; those left are reported again).
    func addListening(_ fd: Int32, ready: @escaping () -> Void) throws(IOError) {
        serial &+= 1
        let token = UInt64(serial) << 32 | UInt64(UInt32(bitPattern: fd))
        guard postern_epoll_add(self.fd, fd, postern_epollin, token) == 0 else { throw IOError.errno("epoll_ctl") }
        listening[fd] = (token, ready)
    }

    /// Takes listening socket `fd` out of the set (it stays open).
    func removeListening(_ fd: Int32) {
        guard listening.removeValue(forKey: fd) != nil else { return }
        _ = postern_epoll_delete(self.fd, fd)
    }

    /// Forgets `endpoint` (before its fd is closed, which takes the socket out of the set).
    func remove(_ endpoint: Endpoint) {
        if members[endpoint.fd] === endpoint { members.removeValue(forKey: endpoint.fd) }
    }

    /// Reads `endpoint` again in this turn (when called during a drain) or in the next one.
    func readAgain(_ endpoint: Endpoint) {
        again.append(endpoint)
        guard !draining else { return }
        scheduleAgain()
    }

    /// Runs `work` at the end of the current wake, after the events (only during one: see `draining`).
    func deferToEndOfWake(_ work: @escaping @Sendable () -> Void) {
        deferred.append(work)
    }

    /// One wake: the events the waiter thread `fetched` (when it did), then up to `rounds` batches of ready
    /// events (none when the fetched batch was not full: nothing more was ready), then the endpoints waiting to
    /// read again, then the work deferred to its end.
    func drain(fetched: UnsafePointer<postern_epoll_ready>? = nil, count fetchedCount: Int = 0) {
        draining = true
        var more = true
        if let fetched {
            deliver(fetched, fetchedCount)
            more = fetchedCount == EpollPoller.batch
        }
        if more {
            for _ in 0..<EpollPoller.rounds {
                let count = Int(postern_epoll_poll(fd, ready, Int32(EpollPoller.batch)))
                guard count > 0 else { break }
                deliver(ready, count)
                if count < EpollPoller.batch { break }
            }
        }
        runAgain()
        runDeferred()
        draining = false
    }

    /// Hands each ready event to its endpoint or listening socket (a stale token, of a socket closed earlier in
    /// the batch, or the waiter's stop eventfd, reaches nothing).
    private func deliver(_ events: UnsafePointer<postern_epoll_ready>, _ count: Int) {
        for index in 0..<count {
            let event = events[index]
            let fd = Int32(truncatingIfNeeded: event.token)
            guard let endpoint = members[fd], endpoint.epollToken == event.token else {
                if let entry = listening[fd], entry.token == event.token { entry.ready() }
                continue
            }
            endpoint.epollEvent(event.events)
        }
    }

    /// A later turn of the queue for the endpoints waiting to read again.
    private func scheduleAgain() {
        guard !againScheduled else { return }
        againScheduled = true
        queue.async { [weak self] in
            guard let self else { return }
            self.againScheduled = false
            self.draining = true
            self.runAgain()
            self.runDeferred()
            self.draining = false
        }
    }

    /// Reads each waiting endpoint once (each within its budget); those with more left wait for the next turn.
    /// Runs while `draining`.
    private func runAgain() {
        guard !again.isEmpty else { return }
        let waiting = again
        again = []
        for endpoint in waiting { endpoint.epollReadAgain() }
        if !again.isEmpty { scheduleAgain() }
    }

    /// Runs the deferred work, and what it defers in turn, for up to `deferredRounds` rounds; anything left
    /// goes to the queue. Runs while `draining`.
    private func runDeferred() {
        var round = 0
        while !deferred.isEmpty {
            let work = deferred
            deferred = []
            guard round < EpollPoller.deferredRounds else {
                for item in work { queue.async(execute: item) }
                return
            }
            round += 1
            for item in work { item() }
        }
    }
}
