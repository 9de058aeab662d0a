import PosternConfig
import PosternGuard

/// The connection limits (`limits.max_connections`, `max_connections_per_ip`, `max_preauth_per_ip`,
/// `max_sessions_per_user`) and the client TLS handshake deadline (`limits.tls_handshake_timeout`).
extension Session {
    /// Counted under this address when the socket has no peer address (never seen for TCP).
    static let unknownClient = IPAddress("::")!

    /// Takes the connection's place in the counts. When a limit refuses it, the client gets the protocol's
    /// refusal (nothing for implicit TLS) and the session ends as `too-many-connections`; false then.
    /// Called when the client is accepted; a listener that reads a PROXY header first would call it once
    /// the header named the real client.
    func admitConnection() -> Bool {
        switch context.guards.limiter.acquire(client: clientIP ?? Self.unknownClient) {
        case .success(let ticket):
            guardState.ticket = ticket
            return true
        case .failure(let refusal):
            context.stats.connectionRefused(listener: listener.name, reason: refusal.label)
            let implicitTLS = listener.tls == .implicit
            if !implicitTLS { send(Runtime.refusal(for: listener.proto)) }
            end(.tooManyConnections, graceful: !implicitTLS, detail: refusal.description)
            return false
        }
    }

    /// Gives the connection's place back (at the end of the session; only the first call counts).
    func releaseConnectionSlot() {
        guard let ticket = guardState.ticket else { return }
        guardState.ticket = nil
        context.guards.limiter.release(ticket)
    }

    /// The backend accepted `user`: the connection leaves the not-logged-in count and joins the user's
    /// sessions, unless that passes `max_sessions_per_user`. Then the failure to answer with (the backend
    /// connection is for the caller to close).
    func admitSession(user: String, label: String) -> DialFailure? {
        guard let ticket = guardState.ticket, let refusal = context.guards.limiter.loggedIn(ticket, user: user) else {
            return nil
        }
        context.stats.connectionRefused(listener: listener.name, reason: refusal.label)
        logger.info(
            "login refused", metadata: ["session": "\(id)", "user": "\(user)", "reason": "\(refusal.description)"])
        return DialFailure(
            outcome: .unavailable(reason: "Too many sessions for this user, try again later."),
            result: .maxSessionsPerUser, reason: nil, label: label)
    }

    /// True when a client TLS handshake (implicit or after STARTTLS) has run longer than
    /// `limits.tls_handshake_timeout`.
    func handshakeExpired(now: UInt64) -> Bool {
        switch phase {
        case .tlsAccept(let since), .starttls(let since):
            return now > since &+ .nanoseconds(limits.tlsHandshakeTimeout)
        default:
            return false
        }
    }
}
