import Dispatch
import Glibc
import PosternSync

/// Something a shard's housekeeping timer visits once a second (sessions check their deadlines).
public protocol ShardTickable: AnyObject {
    func tick(now: UInt64)
}

/// One serial queue of the event loop, with what its connections share: read buffers, and a
/// once-a-second timer for deadlines and for polling paused sockets. Everything in it is touched
/// on `queue` only.
public final class EventShard: @unchecked Sendable {
    public let queue: DispatchQueue
    public let index: Int
    public let kind: EventLoopKind
    /// The shard's epoll set, when `kind` is `.dispatchEpoll` or `.epollThread`.
    let poller: EpollPoller?
    /// Raw bytes read from sockets land here before they are handed on.
    var readBuffer: [UInt8]
    /// Decrypted TLS plaintext lands here.
    var plaintextBuffer: [UInt8]
    /// Endpoints whose reads are paused: the timer polls their sockets for errors.
    var paused: [ObjectIdentifier: Endpoint] = [:]
    /// Endpoints closing gracefully, with their deadlines.
    var lingering: [ObjectIdentifier: (Endpoint, UInt64)] = [:]
    private var tickables: [ObjectIdentifier: any ShardTickable] = [:]
    private var timer: (any DispatchSourceTimer)?

    /// A shard with its own serial queue, learning readiness the `kind` way (an epoll shard's source runs at
    /// once). `EventLoop` starts its timer; a unit test may leave it stopped (nothing then ticks, polls paused
    /// sockets or ends lingering endpoints unless the test does).
    public init(index: Int, readBufferSize: Int, kind: EventLoopKind = .dispatchSources) {
        self.index = index
        self.kind = kind
        let queue = DispatchQueue(label: "postern.shard.\(index)")
        self.queue = queue
        switch kind {
        case .dispatchSources: self.poller = nil
        case .dispatchEpoll: self.poller = EpollPoller(queue: queue)
        case .epollThread: self.poller = EpollPoller(queue: queue, thread: true, index: index)
        }
        self.readBuffer = [UInt8](repeating: 0, count: readBufferSize)
        self.plaintextBuffer = [UInt8](repeating: 0, count: readBufferSize)
    }

    deinit { timer?.cancel() }

    /// Starts the once-a-second housekeeping timer (once; later calls do nothing).
    public func start() {
        guard timer == nil else { return }
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + 1, repeating: 1, leeway: .milliseconds(100))
        timer.setEventHandler { [unowned self] in self.housekeeping() }
        timer.resume()
        self.timer = timer
    }

    /// Visit `object` every second until `unregister`.
    public func register(_ object: any ShardTickable) {
        dispatchPrecondition(condition: .onQueue(queue))
        tickables[ObjectIdentifier(object)] = object
    }

    public func unregister(_ object: any ShardTickable) {
        dispatchPrecondition(condition: .onQueue(queue))
        tickables.removeValue(forKey: ObjectIdentifier(object))
    }

    /// Runs `work` on the shard's queue after the current event: at the end of the current epoll wake when
    /// there is one (on the same thread, with no new block on the queue), else as a block of its own. Called on
    /// the queue; for answers that are ready at once but must not re-enter their caller (a numeric backend
    /// address, a map that answers without suspending).
    public func soon(_ work: @escaping @Sendable () -> Void) {
        dispatchPrecondition(condition: .onQueue(queue))
        if let poller, poller.draining {
            poller.deferToEndOfWake(work)
        } else {
            queue.async(execute: work)
        }
    }

    /// Monotonic nanoseconds.
    public static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// One housekeeping pass (the timer's work): deadlines, paused sockets, lingering endpoints.
    func housekeeping() {
        let now = EventShard.now()
        for object in Array(tickables.values) { object.tick(now: now) }
        for endpoint in Array(paused.values) { endpoint.pollWhilePaused() }
        for (endpoint, deadline) in Array(lingering.values) where now >= deadline { endpoint.close() }
    }
}

/// The Dispatch event loop: a few serial queues (shards); each connection lives on one of them.
public final class EventLoop: Sendable {
    public let shards: [EventShard]
    private let counter = Atomic<Int>(0)

    /// `workers` queues (0 means one per core), each with a `readBufferSize`-byte read buffer, learning
    /// readiness the `kind` way.
    public init(workers: Int, readBufferSize: Int = 65536, kind: EventLoopKind = .dispatchSources) {
        var count = workers
        if count <= 0 { count = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
        shards = (0..<count).map { EventShard(index: $0, readBufferSize: readBufferSize, kind: kind) }
        for shard in shards { shard.start() }
    }

    /// The shard for the next connection (round robin).
    public func nextShard() -> EventShard {
        let value = counter.wrappingAdd(1, ordering: .relaxed).oldValue
        return shards[value % shards.count]
    }
}
