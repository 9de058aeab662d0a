import PosternLog
import PosternTLS

/// The facts of one session that its closing `session` log line reports (fields documented in
/// docs/operations.md), gathered as the session goes. Never holds a credential.
struct SessionLog {
    let id: String
    let client: String
    let listener: String
    /// `imap`, `pop3` or `managesieve`.
    let proto: String
    /// The name the map was asked about, once a login was tried.
    var user: String?
    /// How the client logged in (`LOGIN`, `PLAIN`, ...), once a login was tried.
    var mechanism: String?
    /// The login name used towards the backend, once the map answered.
    var backendUser: String?
    /// The backend used or tried last, `host:port`.
    var backend: String?
    /// Why the map chose it.
    var route: String?
    /// The client's and the backend's TLS, boxed: a plaintext session (or side) keeps a pointer's room,
    /// not the 88 bytes of a `TLSSessionInfo`, for its whole life.
    var clientTLS: TLSSessionInfo? {
        get { boxedClientTLS?.value }
        set { boxedClientTLS = newValue.map(Boxed.init) }
    }
    var backendTLS: TLSSessionInfo? {
        get { boxedBackendTLS?.value }
        set { boxedBackendTLS = newValue.map(Boxed.init) }
    }
    private var boxedClientTLS: Boxed<TLSSessionInfo>?
    private var boxedBackendTLS: Boxed<TLSSessionInfo>?
    /// Bytes of every backend connection of the session (those abandoned during failover included).
    var backendIn: UInt64 = 0
    var backendOut: UInt64 = 0
    /// How long the successful login took (from the login command to the backend's answer).
    var loginNanos: UInt64?

    init(id: String, client: String, listener: String, proto: String) {
        self.id = id
        self.client = client
        self.listener = listener
        self.proto = proto
    }

    /// The line's fields, appended in key order (the order the line shows them in) so that no dictionary is
    /// built or sorted per session.
    func fields(
        outcome: SessionOutcome, clientIn: UInt64, clientOut: UInt64, durationNanos: UInt64, detail: String?
    ) -> LogFieldList {
        var list = LogFieldList(capacity: 23)
        list.append("backend", backend ?? "-")
        list.append("backend_in", String(backendIn))
        list.append("backend_out", String(backendOut))
        list.append("backend_tls", SessionLog.describe(backendTLS))
        list.append("backend_user", backendUser ?? "-")
        list.append("client", client)
        list.append("client_alpn", clientTLS?.alpn ?? "-")
        if let subject = clientTLS?.peerSubject { list.append("client_cert", subject) }
        list.append("client_in", String(clientIn))
        list.append("client_out", String(clientOut))
        if let name = clientTLS?.serverName { list.append("client_sni", name) }
        list.append("client_tls", SessionLog.describe(clientTLS))
        if let info = clientTLS { list.append("client_tls_resumed", String(info.resumed)) }
        if let detail { list.append("detail", detail) }
        list.append("duration_ms", String(durationNanos / 1_000_000))
        list.append("listener", listener)
        list.append("login_ms", loginNanos.map { String($0 / 1_000_000) } ?? "-")
        list.append("mechanism", mechanism ?? "-")
        list.append("outcome", outcome.rawValue)
        list.append("protocol", proto)
        if let route { list.append("route", route) }
        list.append("session", id)
        list.append("user", user ?? "-")
        return list
    }

    static func describe(_ info: TLSSessionInfo?) -> String {
        info.map { "\($0.version)/\($0.cipher)" } ?? "none"
    }
}
