/// How a shard learns that its sockets are ready (`server.event_loop`).
public enum EventLoopKind: String, Sendable, Equatable, CaseIterable {
    /// A read and a write DispatchSource per socket (level-triggered, re-armed by libdispatch per event).
    case dispatchSources = "dispatch-sources"
    /// One edge-triggered epoll set per shard, its sockets registered once, drained in batches on the shard's
    /// queue when the one DispatchSource on the epoll fd fires.
    case dispatchEpoll = "dispatch-epoll"
    /// The same epoll set per shard, waited on by a thread of its own (`EpollWaiter`) that runs the drain on
    /// the shard's queue with `dispatch_sync`, on itself when the queue is free: no hand-off per wake.
    case epollThread = "epoll-thread"
}
