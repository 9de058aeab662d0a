/// How a session ended: the raw values are the `outcome` field of the session log line and the
/// `outcome` label of `postern_session_outcomes_total` (documented in docs/operations.md).
enum SessionOutcome: String, Sendable, Equatable, CaseIterable {
    /// The client said goodbye (LOGOUT, QUIT) or a front-end limit closed it before any login was tried.
    case closedBeforeLogin = "closed-before-login"
    /// The connection was closed after a login was tried: too many failed logins or a protocol violation.
    case loginFailed = "login-failed"
    /// The client closed before it tried to log in.
    case clientClosedBeforeLogin = "client-closed-before-login"
    /// The client closed after it tried to log in, before it was relayed.
    case clientClosedDuringLogin = "client-closed-during-login"
    /// The backend closed a relayed session: the normal end (e.g. after LOGOUT).
    case backendClosed = "backend-closed"
    /// The client's connection failed while it was relayed.
    case clientReset = "client-reset"
    /// The client's connection failed before it was relayed.
    case clientError = "client-error"
    /// The backend's connection failed while it was relayed.
    case backendError = "backend-error"
    /// No traffic in either direction for `limits.idle_timeout`.
    case idleTimeout = "idle-timeout"
    /// No successful login within `limits.login_timeout` (also during a TLS handshake).
    case loginTimeout = "login-timeout"
    /// The server stopped (SIGTERM/SIGINT), after the drain.
    case shutdown
    /// An operator kicked the session through the admin API.
    case kicked
    /// Its listener was removed by a reload; the session was drained like at a stop.
    case listenerRemoved = "listener-removed"
    /// The listener's TLS context is missing.
    case tlsUnavailable = "tls-unavailable"
    /// The client's TLS handshake took longer than `limits.tls_handshake_timeout` (implicit TLS or STARTTLS).
    case tlsHandshakeTimeout = "tls-handshake-timeout"
    /// A connection limit (`max_connections`, `max_connections_per_ip`, `max_preauth_per_ip`) refused the
    /// connection: the protocol's refusal and a close (the detail names the limit).
    case tooManyConnections = "too-many-connections"
    /// The client's TLS handshake failed (implicit TLS or STARTTLS).
    case tlsHandshakeFailed = "tls-handshake-failed"
    /// The client sent more commands before login than `limits.max_preauth_commands` allows.
    case preauthCommandsExceeded = "preauth-commands-exceeded"
    /// More output was queued for a socket than `limits.max_queued_bytes` allows (a peer that does not read).
    case outputOverflow = "output-overflow"
    /// A listener with `proxy_protocol` refused the connection: not from `accept_from`, or no valid PROXY
    /// header in time (`detail` says which).
    case proxyRefused = "proxy-refused"
}
