import Glibc

/// What an endpoint on an epoll shard knows about its socket's read side. Edge-triggered epoll reports a
/// socket once per change, so an edge that was not read to its end (paused, or over the turn's budget) must
/// be remembered until it is.
enum EpollReadState: Equatable {
    /// Read until EAGAIN (or a short read) since the last edge: the next bytes bring a new edge.
    case drained
    /// An edge came and was not read to its end.
    case readable
    /// The peer hung up, reset or sent FIN: read until EAGAIN, EOF or an error (a short read proves nothing,
    /// as no further edge will come).
    case readableToEnd
}

/// The endpoint's side of `EventLoopKind.dispatchEpoll`: registered once, events from the shard's drain.
///
/// Reads go until EAGAIN, a short read, EOF or an error, at most `readsPerTurn` per event before the endpoint
/// waits for the shard's next turn; writes until EAGAIN, then the next EPOLLOUT edge flushes. Pausing is only
/// a flag: an edge seen while paused is remembered and read on resume. A reset (EPOLLERR) while paused
/// fails the endpoint at once, as the housekeeping poll does on a sources shard.
extension Endpoint {
    /// Reads per event (each up to the shard's read buffer) before the endpoint yields to the others.
    static let readsPerTurn = 16

    func startEpoll(_ poller: EpollPoller) {
        do {
            epollToken = try poller.register(self)
        } catch {
            shard.queue.async { self.fail(error) }
        }
    }

    /// One event from the shard's epoll set.
    func epollEvent(_ events: UInt32) {
        guard !closed else { return }
        if connecting {
            guard events & EpollPoller.writable != 0, finishConnect(events: events) else { return }
        }
        if events & EpollPoller.writable != 0 && pendingCount > 0 {
            flush()
            if closed { return }
        }
        guard events & EpollPoller.readable != 0, !readEOF else { return }
        if events & EpollPoller.hungUp != 0 {
            epollRead = .readableToEnd
        } else if epollRead == .drained {
            epollRead = .readable
        }
        if pauseRequested {
            readSuspended = true
            if events & EpollPoller.error != 0 {
                fail(socketError(orElse: IOError(.reset, "connection reset while paused", code: ECONNRESET)))
            }
            return
        }
        epollReadEdge()
    }

    /// The shard's next turn for an endpoint whose budget ran out, or that was resumed with an edge unread.
    func epollReadAgain() {
        guard !closed, !readEOF, !pauseRequested else { return }
        epollReadEdge()
    }

    func epollResumed() {
        readSuspended = false
        if epollRead != .drained { shard.poller?.readAgain(self) }
    }

    private func epollReadEdge() {
        var budget = Endpoint.readsPerTurn
        while epollRead != .drained, !closed, !readEOF, !pauseRequested {
            guard budget > 0 else {
                shard.poller?.readAgain(self)
                return
            }
            budget -= 1
            switch readOnce() {
            case .data(let count):
                // A stream socket's short read emptied its queue: bytes after it raise a new edge.
                if count < shard.readBuffer.count && epollRead == .readable { epollRead = .drained }
            case .wouldBlock:
                epollRead = .drained
            case .ended:
                return
            }
        }
    }
}
