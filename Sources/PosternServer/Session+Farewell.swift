/// Ending a session from the server's side (drain, kick, a removed listener).
extension Session {
    /// How long a relayed session's farewell waits for a boundary between two of the server's responses
    /// before the session is closed without one (session clock).
    static let farewellGrace: UInt64 = 2_000_000_000

    /// Says the protocol's farewell and closes, with the reason's outcome. Before the relay the farewell goes
    /// at once (unless a TLS handshake runs, when nothing may be written); during the relay it is injected
    /// between two of the server's responses, within `farewellGrace`, or the session closes without it.
    func farewell(_ reason: FarewellReason) {
        let dialect = Runtime.dialect(listener.proto)
        switch phase {
        case .ended:
            return
        case .proxyHeader:
            // Nothing is written before the load balancer's header named the client.
            end(reason.outcome)
        case .relaying(let relay):
            relay.farewell(
                PendingFarewell(
                    message: reason.message(for: dialect), outcome: reason.outcome,
                    deadline: context.clock.now() &+ Session.farewellGrace))
        default:
            send(reason == .shutdown ? frontEnd.shutdownMessage() : reason.message(for: dialect))
            end(reason.outcome, graceful: true)
        }
    }

    /// True before the relay: a drain says farewell to such a session (see `isIdleBeforeLogin`).
    var isBeforeRelay: Bool { phase.isBeforeRelay }

    /// True when the session waits for a login command and the client has been quiet for `idleFor`
    /// nanoseconds (session clock): a drain's farewell goes to such a session. A session in a TLS
    /// handshake or with a login under way is never idle; it gets the farewell at the drain deadline at the
    /// latest, or drains as a relayed session once its login succeeded.
    func isIdleBeforeLogin(idleFor: UInt64) -> Bool {
        guard case .preauth = phase else { return false }
        return context.clock.now() &- lastActivity >= idleFor
    }
}
