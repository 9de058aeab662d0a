import PosternIO
import PosternProtocol

/// What a `Relay` reports to its session.
protocol RelayOwner: AnyObject {
    /// The relay is over; `graceful` asks to deliver what is queued to the client before closing.
    func relayEnded(_ outcome: SessionOutcome, graceful: Bool, detail: String?)
}

/// The splice of a logged-in session: bytes each way unchanged, with backpressure in both directions
/// (a side stops being read while the other side's queue is at `bufferSize` or more, and is read again
/// when that queue drained), half-close on the client's EOF, and the idle deadline. A farewell from the
/// server's side (drain, kick) is written only between two of the backend's responses, which a
/// `ResponseBoundaryTracker` follows. Owns the backend connection; the session closes the client. Confined
/// to the shard's queue.
final class Relay: ConnectionDelegate {
    /// Where the relay is: splicing (after the client's EOF, only backend to client), splicing while a
    /// farewell waits for the next response boundary, or over.
    enum State: Equatable {
        case splicing(clientDone: Bool)
        case farewellPending(PendingFarewell, clientDone: Bool)
        case ended
    }

    let client: any Connection
    let backend: any Connection
    weak var owner: (any RelayOwner)?
    private let bufferSize: Int
    private let idleTimeout: UInt64
    private let clock: any SessionClock
    private let relayed: RelayedBytes
    private(set) var state: State = .splicing(clientDone: false)
    private(set) var lastActivity: UInt64
    /// Where the backend-to-client stream stands (fed with every byte the client is sent).
    private(set) var tracker: ResponseBoundaryTracker

    init(client: any Connection, backend: any Connection, context: SessionContext) {
        self.client = client
        self.backend = backend
        self.bufferSize = context.limits.bufferSize
        self.idleTimeout = .nanoseconds(context.limits.idleTimeout)
        self.clock = context.clock
        self.relayed = context.stats.relayed
        self.lastActivity = context.clock.now()
        self.tracker = ResponseBoundaryTracker(dialect: Runtime.dialect(context.listener.proto))
    }

    /// Takes both connections over: forwards what the client pipelined after its login and what the backend
    /// sent after its login response, then reads both sides as their queues allow.
    func start(pipelined: [UInt8], leftover: [UInt8]) {
        client.delegate = self
        backend.delegate = self
        if !pipelined.isEmpty {
            tracker.clientSent(pipelined)
            relayed.clientToBackend.increment(by: Int64(pipelined.count))
            backend.write(pipelined)
        }
        if !leftover.isEmpty, state != .ended { forwardToClient(leftover) }
        guard state != .ended else { return }
        balanceClient()
        balanceBackend()
    }

    /// Closes the backend (the session closes the client); no more reports.
    func stop() {
        state = .ended
        owner = nil
        backend.delegate = nil
        backend.close()
    }

    /// Ends the relay when neither side sent anything for `idle_timeout`, or when a farewell found no
    /// response boundary before its deadline (then without the farewell).
    func tick(now: UInt64) {
        if case .farewellPending(let farewell, _) = state, now > farewell.deadline {
            end(
                farewell.outcome, graceful: true,
                detail: "no boundary between responses before the deadline: closed without a farewell")
            return
        }
        guard state != .ended, now > lastActivity &+ idleTimeout else { return }
        end(.idleTimeout, graceful: false, detail: nil)
    }

    /// Says the farewell between two of the server's responses and ends with its outcome: at once when the
    /// stream is at such a boundary, else at the next one (what follows it is not delivered). A stream that
    /// cannot be followed (IMAP COMPRESS) is closed at once without one.
    func farewell(_ farewell: PendingFarewell) {
        guard case .splicing(let clientDone) = state else { return }
        if tracker.isAtBoundary {
            say(farewell)
        } else if tracker.isLost {
            end(farewell.outcome, graceful: true, detail: "stream not followed (compressed): closed without a farewell")
        } else {
            state = .farewellPending(farewell, clientDone: clientDone)
        }
    }

    private func say(_ farewell: PendingFarewell) {
        client.write(farewell.message)
        end(farewell.outcome, graceful: true, detail: nil)
    }

    /// Writes backend bytes to the client; with a farewell pending, only up to the first boundary in them,
    /// then the farewell.
    private func forwardToClient(_ bytes: UnsafeRawBufferPointer) {
        relayed.backendToClient.increment(by: Int64(bytes.count))
        guard case .farewellPending(let farewell, _) = state else {
            tracker.serverSent(bytes)
            client.write(bytes)
            return
        }
        guard let upTo = tracker.feedToBoundary(bytes) else {
            client.write(bytes)
            return
        }
        if upTo > 0 { client.write(UnsafeRawBufferPointer(rebasing: bytes[..<upTo])) }
        if state != .ended { say(farewell) }
    }

    private func forwardToClient(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { forwardToClient($0) }
    }

    private var clientDone: Bool {
        switch state {
        case .splicing(let done), .farewellPending(_, let done): return done
        case .ended: return false
        }
    }

    /// Reads the client while the backend's queue has room.
    private func balanceClient() {
        if backend.pendingCount >= bufferSize {
            client.pauseReading()
        } else if !clientDone {
            client.resumeReading()
        }
    }

    /// Reads the backend while the client's queue has room.
    private func balanceBackend() {
        if client.pendingCount >= bufferSize {
            backend.pauseReading()
        } else {
            backend.resumeReading()
        }
    }

    private func end(_ outcome: SessionOutcome, graceful: Bool, detail: String?) {
        guard state != .ended else { return }
        state = .ended
        owner?.relayEnded(outcome, graceful: graceful, detail: detail)
    }

    // MARK: ConnectionDelegate

    func connectionConnected(_ connection: any Connection) {}

    func connection(_ connection: any Connection, received bytes: UnsafeRawBufferPointer) {
        guard state != .ended else { return }
        lastActivity = clock.now()
        if connection === client {
            tracker.clientSent(bytes)
            relayed.clientToBackend.increment(by: Int64(bytes.count))
            backend.write(bytes)
            if state != .ended { balanceClient() }
        } else if connection === backend {
            forwardToClient(bytes)
            if state != .ended { balanceBackend() }
        }
    }

    func connectionDrained(_ connection: any Connection) {
        guard state != .ended else { return }
        if connection === client {
            balanceBackend()
        } else if connection === backend {
            balanceClient()
        }
    }

    func connectionReachedEOF(_ connection: any Connection) {
        guard state != .ended else { return }
        if connection === client {
            // The client is done sending: pass the half-close on and keep delivering the backend's answer.
            if case .farewellPending(let farewell, _) = state {
                state = .farewellPending(farewell, clientDone: true)
            } else {
                state = .splicing(clientDone: true)
            }
            backend.shutdownWrite()
        } else if connection === backend {
            // The backend is done: deliver what is queued to the client, then close.
            end(.backendClosed, graceful: true, detail: nil)
        }
    }

    func connection(_ connection: any Connection, failed error: IOError) {
        let overflow = error.kind == .outputOverflow
        if connection === client {
            end(overflow ? .outputOverflow : .clientReset, graceful: false, detail: error.message)
        } else if connection === backend {
            end(overflow ? .outputOverflow : .backendError, graceful: false, detail: error.message)
        }
    }

    func connectionTLSEstablished(_ connection: any Connection) {}
}
