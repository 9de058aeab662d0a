import Dispatch
import Glibc
import PosternTLS

/// One non-blocking socket with its read and write DispatchSources (or, on a `dispatchEpoll` shard, its
/// place in the shard's epoll set), an output buffer, and an optional TLS engine between the socket and the
/// owner.
///
/// Confined to its shard's queue. Source rules that keep it from crashing or leaking (see the
/// platform notes): both sources are resumed at once and only ever suspended from inside their own
/// handlers (so they are armed first); a suspended source is resumed before it is cancelled; the fd
/// is closed in the last cancel handler; a hang-up event (`data == 0`) is remembered so a paused
/// endpoint reads to its end when it resumes; the shard timer polls paused sockets for errors. On an epoll
/// shard there are no sources: see Endpoint+Epoll.swift.
///
/// Output is capped: when the bytes queued for the socket (plaintext, or TLS records including those OpenSSL
/// makes by itself: handshake messages, alerts, KeyUpdate replies) would go over `maxQueuedBytes`, the
/// endpoint fails with `IOError.Kind.outputOverflow`. Failures close the endpoint first, then tell the
/// delegate through `connection(_:failed:)`, also when they happen inside a `write`.
public final class Endpoint: Connection, @unchecked Sendable {
    public let fd: Int32
    public let shard: EventShard
    public weak var delegate: (any ConnectionDelegate)?
    /// Bytes received and sent on the socket (ciphertext when TLS is on).
    public internal(set) var bytesIn: UInt64 = 0
    public internal(set) var bytesOut: UInt64 = 0

    // Internal rather than private: Endpoint+Output.swift shares them.
    var readSource: (any DispatchSourceRead)?
    var writeSource: (any DispatchSourceWrite)?
    var readSuspended = false
    var writeSuspended = false
    var readCancelled = false
    var writeCancelled = false
    var liveSources = 2
    /// On an epoll shard: the token the socket is registered with (nil until `start`).
    var epollToken: UInt64?
    /// On an epoll shard: whether an edge is still unread.
    var epollRead: EpollReadState = .drained
    /// True once the fd was closed (in the last cancel handler, or by `close` before `start`).
    var fdReleased = false
    var pauseRequested = false
    var hangupSeen = false
    var pullScheduled = false
    public internal(set) var connecting: Bool
    public internal(set) var readEOF = false
    public internal(set) var closed = false
    var shutdownWhenDrained = false
    var lingerWhenDrained = false
    var lingering = false
    var lingerBytes = 0

    /// Queued output; bytes before `pendingStart` were written already.
    var pending: [UInt8] = []
    var pendingStart = 0
    public internal(set) var tls: TLSEngine?

    /// Bytes queued for the socket and not yet written.
    public var pendingCount: Int { pending.count - pendingStart }

    /// The hard cap on `pendingCount` (1 MiB by default); going over it fails the endpoint with
    /// `IOError.Kind.outputOverflow`.
    public var maxQueuedBytes: Int = 1 << 20

    /// The peer's address as `accept` gave it (spares a `getpeername`), if known.
    let acceptedPeer: SocketAddress?

    /// Wraps a connected (or connecting) non-blocking fd. Call `start()` next. `peer` is the address
    /// `accept` returned, if any (`peerAddress` then needs no system call).
    public init(fd: Int32, shard: EventShard, connecting: Bool = false, peer: SocketAddress? = nil) {
        self.fd = fd
        self.shard = shard
        self.connecting = connecting
        self.acceptedPeer = peer
    }

    deinit {
        // Never started (sources hold the endpoint until their cancel handlers ran): the fd is still ours.
        if !fdReleased && readSource == nil && writeSource == nil { Glibc.close(fd) }
    }

    /// Creates and resumes the sources. Does nothing once closed or started.
    public func start() {
        dispatchPrecondition(condition: .onQueue(shard.queue))
        guard !closed, readSource == nil, writeSource == nil, epollToken == nil else { return }
        if let poller = shard.poller {
            startEpoll(poller)
            return
        }
        let read = DispatchSource.makeReadSource(fileDescriptor: fd, queue: shard.queue)
        let write = DispatchSource.makeWriteSource(fileDescriptor: fd, queue: shard.queue)
        read.setEventHandler { self.readReady() }
        write.setEventHandler { self.writeReady() }
        read.setCancelHandler { self.sourceCancelled() }
        write.setCancelHandler { self.sourceCancelled() }
        readSource = read
        writeSource = write
        read.resume()
        write.resume()
    }

    // MARK: TLS

    /// Puts a TLS engine between the socket and the owner; a client-role engine sends its hello now.
    public func startTLS(_ engine: TLSEngine) {
        tls = engine
        do {
            if try engine.handshake() { shard.queue.async { self.tlsHandshakeFinished() } }
        } catch {
            fail(IOError(.tlsHandshake, error.message, tlsReason: error.reason))
            return
        }
        flushTLS()
    }

    public func startTLS(context: TLSContext, serverName: String?) {
        do {
            startTLS(try TLSEngine(context: context, serverName: serverName))
        } catch {
            let failure = IOError(.tlsHandshake, error.message, tlsReason: error.reason)
            shard.queue.async { self.fail(failure) }
        }
    }

    public var isHandshaking: Bool { !closed && tls.map { !$0.handshakeComplete } ?? false }

    public var tlsInfo: TLSSessionInfo? { tls?.handshakeComplete == true ? tls?.sessionInfo : nil }

    public var isClosed: Bool { closed }

    private func tlsHandshakeFinished() {
        guard !closed else { return }
        delegate?.connectionTLSEstablished(self)
    }

    // MARK: Reading

    /// Stop delivering bytes (backpressure). Takes effect at the next read event.
    public func pauseReading() {
        guard !pauseRequested, !closed, !readEOF else { return }
        pauseRequested = true
        // Under epoll a hang-up or reset is reported even while paused: no polling needed.
        if shard.poller == nil { shard.paused[ObjectIdentifier(self)] = self }
    }

    public func resumeReading() {
        guard pauseRequested else { return }
        pauseRequested = false
        shard.paused.removeValue(forKey: ObjectIdentifier(self))
        guard !closed, !readEOF else { return }
        if shard.poller != nil {
            epollResumed()
            return
        }
        if readSuspended {
            readSuspended = false
            readSource?.resume()
        }
        if hangupSeen { schedulePull() }
    }

    public var isReadingPaused: Bool { pauseRequested }

    private func readReady() {
        guard !closed, !readEOF, let source = readSource else { return }
        if connecting && !finishConnect() { return }
        if source.data == 0 { hangupSeen = true }
        if pauseRequested {
            readSuspended = true
            source.suspend()
            return
        }
        readOnce()
        if hangupSeen { schedulePull() }
    }

    /// After a hang-up no further events come: read on until EOF or an error.
    private func schedulePull() {
        guard !pullScheduled else { return }
        pullScheduled = true
        shard.queue.async {
            self.pullScheduled = false
            guard !self.closed, !self.readEOF, !self.pauseRequested, self.hangupSeen else { return }
            if case .data = self.readOnce() { self.schedulePull() }
        }
    }

    /// What one read from the socket gave.
    enum ReadOutcome {
        /// This many bytes were read and delivered.
        case data(Int)
        /// Nothing to read now (EAGAIN).
        case wouldBlock
        /// EOF or a failure: the read side is over.
        case ended
    }

    /// One read into the shard's buffer, delivered to the delegate.
    @discardableResult
    func readOnce() -> ReadOutcome {
        let count = shard.readBuffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
        if count > 0 {
            bytesIn += UInt64(count)
            shard.readBuffer.withUnsafeBytes { deliver(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            return .data(count)
        }
        if count == 0 {
            reachedEOF()
            return .ended
        }
        let code = errno
        if code == EAGAIN || code == EWOULDBLOCK || code == EINTR {
            if hangupSeen {
                if socketIsDead() {
                    fail(socketError(orElse: IOError(.reset, "connection hung up", code: ECONNRESET)))
                    return .ended
                }
                hangupSeen = false
            }
            return .wouldBlock
        }
        fail(IOError.errno("read", code))
        return .ended
    }

    private func deliver(_ raw: UnsafeRawBufferPointer) {
        if lingering {
            lingerBytes += raw.count
            if lingerBytes > 1 << 20 { close() }
            return
        }
        guard let tls else {
            delegate?.connection(self, received: raw)
            return
        }
        tls.feed(raw)
        let wasComplete = tls.handshakeComplete
        do {
            if !wasComplete {
                let done = try tls.handshake()
                guard flushTLS(), done else { return }
                delegate?.connectionTLSEstablished(self)
                if closed { return }
            }
            while !closed && !readEOF {
                let result = try shard.plaintextBuffer.withUnsafeMutableBytes { buffer in
                    Result { () throws(TLSError) in try tls.readPlaintext(into: buffer) }
                }.get()
                switch result {
                case .data(let count):
                    shard.plaintextBuffer.withUnsafeBytes {
                        delegate?.connection(self, received: UnsafeRawBufferPointer(rebasing: $0[..<count]))
                    }
                case .wantMore:
                    flushTLS()
                    return
                case .closed:
                    flushTLS()
                    reachedEOF()
                    return
                }
            }
        } catch {
            // The alert OpenSSL queued goes out even over the cap: the TLS error is what to report.
            flushTLS(enforcingCap: false)
            fail(IOError(tls.handshakeComplete ? .tls : .tlsHandshake, error.message, tlsReason: error.reason))
        }
    }

    private func reachedEOF() {
        guard !readEOF else { return }
        readEOF = true
        shard.paused.removeValue(forKey: ObjectIdentifier(self))
        cancelRead()
        if lingering {
            close()
            return
        }
        delegate?.connectionReachedEOF(self)
    }

    /// True when the socket reports an error or a full hang-up.
    private func socketIsDead() -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, 0) == 1 else { return false }
        return entry.revents & Int16(POLLERR) != 0 || entry.revents & Int16(POLLHUP) != 0
    }

    /// The socket's pending error (SO_ERROR), classified: a keepalive that ran out is ETIMEDOUT, a timeout.
    func socketError(orElse fallback: IOError) -> IOError {
        guard let code = SocketOps.option(fd, SOL_SOCKET, SO_ERROR), code != 0 else { return fallback }
        return IOError.errno("read", code)
    }

    /// Called by the shard timer while reads are paused: a reset socket ends the endpoint.
    func pollWhilePaused() {
        guard !closed else { return }
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, 0) == 1 else { return }
        if entry.revents & Int16(POLLERR) != 0 {
            fail(socketError(orElse: IOError(.reset, "connection reset while paused", code: ECONNRESET)))
        } else if entry.revents & Int16(POLLHUP) != 0 {
            hangupSeen = true
        }
    }

    // MARK: Connecting

    /// The connect is over: connected, or failed with the socket's SO_ERROR. An epoll event without EPOLLERR or
    /// EPOLLHUP (`events`) already says it connected, so the SO_ERROR read is skipped then.
    func finishConnect(events: UInt32? = nil) -> Bool {
        var error: Int32 = 0
        if let events, events & EpollPoller.connectFailed == 0 {
            connecting = false
            delegate?.connectionConnected(self)
            return !closed
        }
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        if error != 0 {
            fail(SocketOps.connectError("connect", error))
            return false
        }
        connecting = false
        delegate?.connectionConnected(self)
        return !closed
    }

    func fail(_ error: IOError) {
        guard !closed else { return }
        let delegate = self.delegate
        close()
        delegate?.connection(self, failed: error)
    }

    /// Closes now. The fd is closed once both sources' cancel handlers ran (at once if never started).
    public func close() {
        guard !closed else { return }
        closed = true
        delegate = nil
        shard.paused.removeValue(forKey: ObjectIdentifier(self))
        shard.lingering.removeValue(forKey: ObjectIdentifier(self))
        pending = []
        pendingStart = 0
        if epollToken != nil { shard.poller?.remove(self) }
        guard readSource != nil || writeSource != nil else {
            releaseFD()
            return
        }
        cancelRead()
        cancelWrite()
    }

    private func cancelRead() {
        guard !readCancelled, let source = readSource else { return }
        readCancelled = true
        if readSuspended {
            readSuspended = false
            source.resume()
        }
        source.cancel()
    }

    private func cancelWrite() {
        guard !writeCancelled, let source = writeSource else { return }
        writeCancelled = true
        if writeSuspended {
            writeSuspended = false
            source.resume()
        }
        source.cancel()
    }

    private func sourceCancelled() {
        liveSources -= 1
        guard liveSources == 0 else { return }
        releaseFD()
        // Both sources are cancelled and resumed: releasing them is safe and breaks the cycles.
        readSource = nil
        writeSource = nil
    }

    private func releaseFD() {
        guard !fdReleased else { return }
        fdReleased = true
        liveSources = 0
        Glibc.close(fd)
        tls = nil
    }
}

extension Endpoint {
    /// The remote address of the socket, if it is connected.
    public var peerAddress: SocketAddress? { acceptedPeer ?? SocketOps.peerAddress(fd) }

    /// Makes the next close send a reset instead of a FIN.
    public func setAbortiveClose() { SocketOps.setAbortiveClose(fd) }
}
