/// Where a session is, with what belongs to that phase: the attempt while the map is asked, the dialler
/// while a backend is tried, the relay once logged in, and the outcome at the end. The login's large payloads
/// are boxed (`indirect`), so a relayed session does not keep their room inline for its whole life.
enum SessionPhase {
    /// A listener with `proxy_protocol`: the PROXY header of a trusted load balancer is read first.
    case proxyHeader(ProxyHeaderReader)
    /// The implicit-TLS handshake runs since then (session clock); nothing is written to the client yet.
    case tlsAccept(since: UInt64)
    /// The login dialogue (greeting, capabilities, login commands).
    case preauth
    /// A STARTTLS handshake runs since then (session clock).
    case starttls(since: UInt64)
    /// The abuse guards hold the login: before it is routed, or its answer.
    indirect case paused(LoginPause)
    /// The map is asked where the attempt's user lives.
    indirect case routing(LoginAttempt)
    /// The attempt's backends are tried.
    case dialling(BackendDialler)
    /// The backend accepted: the front end sends its final response and asks to relay.
    indirect case loggedIn(LoggedInBackend)
    /// Spliced.
    case relaying(Relay)
    case ended(SessionOutcome)

    /// Before the relay: the login deadline applies and the front-end machine reads the client.
    var isBeforeRelay: Bool {
        switch self {
        case .proxyHeader, .tlsAccept, .preauth, .starttls, .paused, .routing, .dialling, .loggedIn: return true
        case .relaying, .ended: return false
        }
    }

    var isEnded: Bool {
        if case .ended = self { return true }
        return false
    }
}
