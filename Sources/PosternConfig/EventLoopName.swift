/// `server.event_loop`: how the event loop learns that sockets are ready.
public enum EventLoopName: String, Sendable, Equatable, CaseIterable {
    /// A read and a write DispatchSource per socket.
    case dispatchSources = "dispatch-sources"
    /// One edge-triggered epoll set per worker queue behind one DispatchSource on its fd.
    case dispatchEpoll = "dispatch-epoll"
    /// The same epoll set per worker queue, waited on by a thread per queue that runs the queue's drain itself.
    case epollThread = "epoll-thread"
}
