import PosternIO

/// What a `Relay` reports to its session.
protocol RelayOwner: AnyObject {
    /// The relay is over; `graceful` asks to deliver what is queued to the client before closing.
    func relayEnded(_ outcome: SessionOutcome, graceful: Bool, detail: String?)
}

/// The splice of a logged-in session: bytes each way unchanged, with backpressure in both directions
/// (a side stops being read while the other side's queue is at `bufferSize` or more, and is read again
/// when that queue drained), half-close on the client's EOF, and the idle deadline. Owns the backend
/// connection; the session closes the client. Confined to the shard's queue.
final class Relay: ConnectionDelegate {
    /// Where the relay is: splicing (after the client's EOF, only backend to client) or over.
    enum State: Equatable {
        case splicing(clientDone: Bool)
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

    init(client: any Connection, backend: any Connection, context: SessionContext) {
        self.client = client
        self.backend = backend
        self.bufferSize = context.limits.bufferSize
        self.idleTimeout = .nanoseconds(context.limits.idleTimeout)
        self.clock = context.clock
        self.relayed = context.stats.relayed
        self.lastActivity = context.clock.now()
    }

    /// Takes both connections over: forwards what the client pipelined after its login and what the backend
    /// sent after its login response, then reads both sides as their queues allow.
    func start(pipelined: [UInt8], leftover: [UInt8]) {
        client.delegate = self
        backend.delegate = self
        if !pipelined.isEmpty {
            relayed.clientToBackend.increment(by: Int64(pipelined.count))
            backend.write(pipelined)
        }
        if !leftover.isEmpty, state != .ended {
            relayed.backendToClient.increment(by: Int64(leftover.count))
            client.write(leftover)
        }
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

    /// Ends the relay when neither side sent anything for `idle_timeout`.
    func tick(now: UInt64) {
        guard state != .ended, now > lastActivity &+ idleTimeout else { return }
        end(.idleTimeout, graceful: false, detail: nil)
    }

    private var clientDone: Bool { state == .splicing(clientDone: true) }

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
            relayed.clientToBackend.increment(by: Int64(bytes.count))
            backend.write(bytes)
            if state != .ended { balanceClient() }
        } else if connection === backend {
            relayed.backendToClient.increment(by: Int64(bytes.count))
            client.write(bytes)
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
            state = .splicing(clientDone: true)
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
