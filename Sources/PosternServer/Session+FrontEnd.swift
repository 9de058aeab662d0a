import PosternIO
import PosternProtocol

/// The login dialogue: what the front-end machine asks for, and the client's events before the relay.
extension Session: ConnectionDelegate {
    func perform(_ actions: [FrontEndAction]) {
        for action in actions {
            guard phase.isBeforeRelay else { return }
            switch action {
            case .send(let bytes):
                send(bytes)
            case .startTLS:
                guard let tls = runtime.serverTLS(for: listener.name) else {
                    end(.tlsUnavailable)
                    return
                }
                phase = .starttls(since: context.clock.now())
                client.startTLS(context: tls, serverName: nil)
            case .login(let request):
                beginLogin(request)
            case .relay(let pipelined):
                beginRelay(pipelined: pipelined)
            case .close:
                end(closeOutcome, graceful: true)
            case .yield:
                scheduleResume()
            }
        }
    }

    /// The outcome of a close the front end asked for.
    var closeOutcome: SessionOutcome {
        if frontEnd.closeReason == .preauthBudgetExceeded { return .preauthCommandsExceeded }
        return log.user == nil ? .closedBeforeLogin : .loginFailed
    }

    /// The machine stopped at its per-call cap: the client is not read until it went on, on a later turn of
    /// the queue, so that other sessions of the shard get their turn.
    private func scheduleResume() {
        hold(.yield)
        scheduleResumeTurn()
    }

    /// Queues the turn that goes on with the buffered commands.
    func scheduleResumeTurn() {
        let generation = self.generation
        shard.queue.async { self.resumeFrontEnd(generation: generation) }
    }

    /// Goes on after a yield, unless the session moved on since (another login, the relay, the end). While
    /// the client's output is backlogged the buffered commands wait too (they would only add to it): the
    /// turn is queued again when the output drained (`updateOutputHold`).
    func resumeFrontEnd(generation: Int) {
        guard holds.contains(.yield), !holds.contains(.output) else { return }
        holds.remove(.yield)
        guard generation == self.generation, case .preauth = phase else {
            if phase.isBeforeRelay, holds.isEmpty { client.resumeReading() }
            return
        }
        perform(frontEnd.resume())
        if phase.isBeforeRelay, holds.isEmpty { client.resumeReading() }
    }

    // MARK: Client events before the relay (the relay is the client's delegate after it)

    func connectionConnected(_ connection: any Connection) {}

    func connection(_ connection: any Connection, received bytes: UnsafeRawBufferPointer) {
        guard connection === client else { return }
        lastActivity = context.clock.now()
        switch phase {
        case .preauth, .paused, .routing, .dialling, .loggedIn:
            perform(frontEnd.receive(Array(bytes)))
        case .proxyHeader:
            proxyReceived(Array(bytes))
        case .tlsAccept, .starttls, .relaying, .ended:
            break
        }
    }

    func connectionDrained(_ connection: any Connection) {
        guard connection === client else { return }
        updateOutputHold()
    }

    func connectionTLSEstablished(_ connection: any Connection) {
        guard connection === client else { return }
        HeapTrimmer.shared.handshakeFinished(on: shard)
        log.clientTLS = client.tlsInfo
        if let info = client.tlsInfo { identity.tlsEstablished(info) }
        switch phase {
        case .tlsAccept:
            phase = .preauth
            send(frontEnd.greeting())
        case .starttls:
            phase = .preauth
            perform(frontEnd.tlsEstablished())
        default:
            break
        }
    }

    func connectionReachedEOF(_ connection: any Connection) {
        guard connection === client, phase.isBeforeRelay else { return }
        end(log.user == nil ? .clientClosedBeforeLogin : .clientClosedDuringLogin)
    }

    func connection(_ connection: any Connection, failed error: IOError) {
        guard connection === client, phase.isBeforeRelay else { return }
        let outcome: SessionOutcome
        switch error.kind {
        case .tlsHandshake:
            outcome = .tlsHandshakeFailed
            context.listenerMetrics.tlsHandshakeFailed(TLSFailureReason(error))
        case .outputOverflow: outcome = .outputOverflow
        default: outcome = .clientError
        }
        end(outcome, detail: error.message)
    }
}
