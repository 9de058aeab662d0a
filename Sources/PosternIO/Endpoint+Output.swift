import Dispatch
import Glibc
import PosternTLS

/// The output side of an endpoint: the queue, its hard cap, flushing, half-close and the graceful close.
extension Endpoint {
    /// Plaintext is encrypted in slices of this size and each slice is flushed before the next, so the
    /// cap is checked as it is for plaintext: what the socket takes at once never counts against it.
    static let tlsWriteSlice = 65536

    /// Queues bytes (plaintext; encrypted first when TLS is on) and writes what the socket takes. Fails the
    /// endpoint with `.outputOverflow` when what stays queued would go over `maxQueuedBytes`.
    public func write(_ bytes: UnsafeRawBufferPointer) {
        guard !closed, !lingering, bytes.count > 0 else { return }
        if tls != nil {
            writeEncrypted(bytes)
            return
        }
        if pendingCount == 0 && !connecting {
            let written = Glibc.write(fd, bytes.baseAddress!, bytes.count)
            if written == bytes.count {
                bytesOut += UInt64(written)
                return
            }
            let code = errno
            if written < 0 && code != EAGAIN && code != EWOULDBLOCK && code != EINTR {
                fail(IOError.errno("write", code))
                return
            }
            let done = max(0, written)
            bytesOut += UInt64(done)
            guard admits(bytes.count - done) else { return }
            enqueue(UnsafeRawBufferPointer(rebasing: bytes[done...]))
            armWrite()
            return
        }
        guard admits(bytes.count) else { return }
        enqueue(bytes)
        flush()
    }

    private func writeEncrypted(_ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < bytes.count, let tls, !closed {
            let slice = UnsafeRawBufferPointer(
                rebasing: bytes[offset..<min(bytes.count, offset + Endpoint.tlsWriteSlice)])
            // With bytes queued the socket is full: ciphertext is at least as long as its plaintext, so
            // refuse before encrypting rather than after.
            if pendingCount > 0 {
                guard admits(tls.outgoingCount + slice.count) else { return }
            }
            do {
                try tls.write(slice)
            } catch {
                fail(IOError(.tls, error.message))
                return
            }
            offset += slice.count
            flushTLS(reportingDrained: offset == bytes.count)
        }
    }

    /// True when `extra` more queued bytes stay within `maxQueuedBytes`; otherwise fails the endpoint.
    func admits(_ extra: Int) -> Bool {
        guard pendingCount + extra > maxQueuedBytes else { return true }
        fail(
            IOError(
                .outputOverflow,
                "output queue full: \(pendingCount + extra) bytes would be queued, the cap is \(maxQueuedBytes)"))
        return false
    }

    /// Appends to the queue, first dropping the written prefix once it is longer than what is left, so
    /// the buffer stays within about twice the queued bytes however slowly the peer reads.
    private func enqueue(_ bytes: UnsafeRawBufferPointer) {
        compactPending()
        pending.append(contentsOf: bytes)
    }

    private func compactPending() {
        guard pendingStart > 0, pendingStart >= pendingCount else { return }
        pending.removeFirst(pendingStart)
        pendingStart = 0
    }

    /// Moves what OpenSSL queued (records, alerts, handshake messages, KeyUpdate replies) to the socket queue
    /// and writes what the socket takes; fails with `.outputOverflow` when what is left is over the cap,
    /// unless told not to (the alert that goes with a TLS failure). Returns false when the endpoint is closed
    /// afterwards.
    @discardableResult
    func flushTLS(enforcingCap: Bool = true, reportingDrained: Bool = true) -> Bool {
        guard !closed else { return false }
        guard let tls, tls.outgoingCount > 0 else { return true }
        compactPending()
        tls.takeOutgoing(into: &pending)
        flush(reportingDrained: reportingDrained)
        if enforcingCap && !closed && pendingCount > maxQueuedBytes { _ = admits(0) }
        return !closed
    }

    func flush(reportingDrained: Bool = true) {
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
        if reportingDrained { drained() }
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

    func writeReady() {
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
        guard flushTLS() else { return }
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
}
