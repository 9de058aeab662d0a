import Dispatch
import Glibc
import PosternTLS

/// One non-blocking socket with its read and write DispatchSources, an output buffer, and an
/// optional TLS engine between the socket and the owner.
///
/// Confined to its shard's queue. Source rules that keep it from crashing or leaking (see the
/// platform notes): both sources are resumed at once and only ever suspended from inside their own
/// handlers (so they are armed first); a suspended source is resumed before it is cancelled; the fd
/// is closed in the last cancel handler; a hang-up event (`data == 0`) is remembered so a paused
/// endpoint reads to its end when it resumes; the shard timer polls paused sockets for errors.
public final class Endpoint: Connection, @unchecked Sendable {
    public let fd: Int32
    public let shard: EventShard
    public weak var delegate: (any ConnectionDelegate)?
    /// Bytes received and sent on the socket (ciphertext when TLS is on).
    public private(set) var bytesIn: UInt64 = 0
    public private(set) var bytesOut: UInt64 = 0

    private var readSource: (any DispatchSourceRead)?
    private var writeSource: (any DispatchSourceWrite)?
    private var readSuspended = false
    private var writeSuspended = false
    private var readCancelled = false
    private var writeCancelled = false
    private var liveSources = 2
    private var pauseRequested = false
    private var hangupSeen = false
    private var pullScheduled = false
    public private(set) var connecting: Bool
    public private(set) var readEOF = false
    public private(set) var closed = false
    private var shutdownWhenDrained = false
    private var lingerWhenDrained = false
    private var lingering = false
    private var lingerBytes = 0

    private var pending: [UInt8] = []
    private var pendingStart = 0
    public private(set) var tls: TLSEngine?

    /// Bytes queued for the socket and not yet written.
    public var pendingCount: Int { pending.count - pendingStart }

    /// Wraps a connected (or connecting) non-blocking fd. Call `start()` next.
    public init(fd: Int32, shard: EventShard, connecting: Bool = false) {
        self.fd = fd
        self.shard = shard
        self.connecting = connecting
    }

    /// Creates and resumes the sources.
    public func start() {
        dispatchPrecondition(condition: .onQueue(shard.queue))
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
            fail(IOError(.tlsHandshake, error.message))
            return
        }
        flushTLS()
    }

    public func startTLS(context: TLSContext, serverName: String?) {
        do {
            startTLS(try TLSEngine(context: context, serverName: serverName))
        } catch {
            let message = error.message
            shard.queue.async { self.fail(IOError(.tlsHandshake, message)) }
        }
    }

    public var isHandshaking: Bool { tls.map { !$0.handshakeComplete } ?? false }

    public var tlsInfo: TLSSessionInfo? { tls?.handshakeComplete == true ? tls?.sessionInfo : nil }

    public var isClosed: Bool { closed }

    /// Enforcement lands with the session-engine work; the value is kept for it.
    public var maxQueuedBytes: Int = 1 << 20

    private func tlsHandshakeFinished() {
        guard !closed else { return }
        delegate?.connectionTLSEstablished(self)
    }

    // MARK: Reading

    /// Stop delivering bytes (backpressure). Takes effect at the next read event.
    public func pauseReading() {
        guard !pauseRequested, !closed, !readEOF else { return }
        pauseRequested = true
        shard.paused[ObjectIdentifier(self)] = self
    }

    public func resumeReading() {
        guard pauseRequested else { return }
        pauseRequested = false
        shard.paused.removeValue(forKey: ObjectIdentifier(self))
        guard !closed, !readEOF else { return }
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
            if self.readOnce() { self.schedulePull() }
        }
    }

    /// One read; true if bytes arrived.
    @discardableResult
    private func readOnce() -> Bool {
        let count = shard.readBuffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
        if count > 0 {
            bytesIn += UInt64(count)
            shard.readBuffer.withUnsafeBytes { deliver(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            return true
        }
        if count == 0 {
            reachedEOF()
            return false
        }
        let code = errno
        if code == EAGAIN || code == EWOULDBLOCK || code == EINTR {
            if hangupSeen {
                if socketIsDead() {
                    fail(IOError(.reset, "connection hung up", code: ECONNRESET))
                } else {
                    hangupSeen = false
                }
            }
            return false
        }
        fail(IOError.errno("read", code))
        return false
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
                flushTLS()
                guard done else { return }
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
            flushTLS()
            fail(IOError(wasComplete ? .tls : .tlsHandshake, error.message))
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

    /// Called by the shard timer while reads are paused: a reset socket ends the endpoint.
    func pollWhilePaused() {
        guard !closed else { return }
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, 0) == 1 else { return }
        if entry.revents & Int16(POLLERR) != 0 {
            fail(IOError(.reset, "connection reset while paused", code: ECONNRESET))
        } else if entry.revents & Int16(POLLHUP) != 0 {
            hangupSeen = true
        }
    }

    // MARK: Connecting

    private func finishConnect() -> Bool {
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        if error != 0 {
            fail(IOError.errno("connect", error))
            return false
        }
        connecting = false
        delegate?.connectionConnected(self)
        return !closed
    }

    // MARK: Writing

    /// Queues bytes (plaintext; encrypted first when TLS is on) and writes what the socket takes.
    public func write(_ bytes: UnsafeRawBufferPointer) {
        guard !closed, !lingering, bytes.count > 0 else { return }
        if let tls {
            do {
                try tls.write(bytes)
            } catch {
                fail(IOError(.tls, error.message))
                return
            }
            flushTLS()
            return
        }
        if pendingCount == 0 && !connecting {
            let written = Glibc.write(fd, bytes.baseAddress!, bytes.count)
            if written == bytes.count {
                bytesOut += UInt64(written)
                return
            }
            if written < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
                fail(IOError.errno("write"))
                return
            }
            let done = max(0, written)
            bytesOut += UInt64(done)
            pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[done...]))
            armWrite()
            return
        }
        pending.append(contentsOf: bytes)
        flush()
    }

    public func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { write($0) }
    }

    private func flushTLS() {
        guard let tls, tls.outgoingCount > 0 else { return }
        tls.takeOutgoing(into: &pending)
        flush()
    }

    private func flush() {
        guard !closed else { return }
        if connecting {
            armWrite()
            return
        }
        while pendingCount > 0 {
            let written = pending.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + pendingStart, pendingCount) }
            if written > 0 {
                bytesOut += UInt64(written)
                pendingStart += written
                continue
            }
            let code = errno
            if written < 0 && (code == EAGAIN || code == EWOULDBLOCK || code == EINTR) {
                armWrite()
                return
            }
            fail(IOError.errno("write", code))
            return
        }
        pending = []
        pendingStart = 0
        drained()
    }

    private func drained() {
        if shutdownWhenDrained {
            shutdownWhenDrained = false
            Glibc.shutdown(fd, Int32(SHUT_WR))
        }
        if lingerWhenDrained {
            lingerWhenDrained = false
            startLinger()
            return
        }
        delegate?.connectionDrained(self)
    }

    private func armWrite() {
        if writeSuspended, !writeCancelled {
            writeSuspended = false
            writeSource?.resume()
        }
    }

    private func writeReady() {
        guard !closed, let source = writeSource else { return }
        if connecting {
            guard finishConnect() else { return }
        }
        if pendingCount > 0 { flush() }
        if !closed && pendingCount == 0 && !writeSuspended {
            writeSuspended = true
            source.suspend()
        }
    }

    /// Half-closes: no more bytes will be sent (TLS close_notify first) once the queue is written.
    public func shutdownWrite() {
        guard !closed else { return }
        tls?.shutdown()
        flushTLS()
        if pendingCount == 0 {
            Glibc.shutdown(fd, Int32(SHUT_WR))
        } else {
            shutdownWhenDrained = true
        }
    }

    // MARK: Closing

    /// Closes gracefully: writes what is queued, half-closes, then reads and drops what the peer
    /// still sends until it closes (at most a few seconds), so a final reply is not lost to a reset.
    public func finish() {
        guard !closed, !lingering else { return }
        delegate = nil
        resumeReading()
        guard pendingCount > 0 else {
            startLinger()
            return
        }
        lingerWhenDrained = true
        // A peer that never reads must not keep the socket: the queue gets a few seconds to drain.
        shard.lingering[ObjectIdentifier(self)] = (self, EventShard.now() + 5_000_000_000)
    }

    private func startLinger() {
        if readEOF {
            close()
            return
        }
        lingering = true
        tls?.shutdown()
        if let tls, tls.outgoingCount > 0 {
            tls.takeOutgoing(into: &pending)
            pending.withUnsafeBytes { _ = Glibc.write(fd, $0.baseAddress! + pendingStart, pendingCount) }
            pending = []
            pendingStart = 0
        }
        Glibc.shutdown(fd, Int32(SHUT_WR))
        shard.lingering[ObjectIdentifier(self)] = (self, EventShard.now() + 2_000_000_000)
    }

    private func fail(_ error: IOError) {
        guard !closed else { return }
        let delegate = self.delegate
        close()
        delegate?.connection(self, failed: error)
    }

    /// Closes now. The fd is closed once both sources' cancel handlers ran.
    public func close() {
        guard !closed else { return }
        closed = true
        delegate = nil
        shard.paused.removeValue(forKey: ObjectIdentifier(self))
        shard.lingering.removeValue(forKey: ObjectIdentifier(self))
        pending = []
        pendingStart = 0
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
        Glibc.close(fd)
        // Both sources are cancelled and resumed: releasing them is safe and breaks the cycles.
        readSource = nil
        writeSource = nil
        tls = nil
    }
}
