import Logging
import PosternTLS

/// The facts of one session that its closing `session` log line reports (fields documented in
/// docs/operations.md), gathered as the session goes. Never holds a credential.
struct SessionLog {
    let id: String
    let client: String
    let listener: String
    /// The name the map was asked about, once a login was tried.
    var user: String?
    /// The backend used or tried last, `host:port`.
    var backend: String?
    /// Why the map chose it.
    var route: String?
    var clientTLS: TLSSessionInfo?
    var backendTLS: TLSSessionInfo?
    /// Bytes of every backend connection of the session (those abandoned during failover included).
    var backendIn: UInt64 = 0
    var backendOut: UInt64 = 0

    init(id: String, client: String, listener: String) {
        self.id = id
        self.client = client
        self.listener = listener
    }

    /// The line's fields, in the order of the documentation.
    func fields(
        outcome: SessionOutcome, clientIn: UInt64, clientOut: UInt64, durationNanos: UInt64, detail: String?
    ) -> Logger.Metadata {
        var metadata: Logger.Metadata = [
            "session": "\(id)",
            "client": "\(client)",
            "listener": "\(listener)",
            "user": "\(user ?? "-")",
            "backend": "\(backend ?? "-")",
            "client_tls": "\(SessionLog.describe(clientTLS))",
            "backend_tls": "\(SessionLog.describe(backendTLS))",
            "client_in": "\(clientIn)",
            "client_out": "\(clientOut)",
            "backend_in": "\(backendIn)",
            "backend_out": "\(backendOut)",
            "duration_ms": "\(durationNanos / 1_000_000)",
            "outcome": "\(outcome.rawValue)",
        ]
        metadata.merge(SessionLog.clientTLSFields(clientTLS)) { $1 }
        if let detail { metadata["detail"] = "\(detail)" }
        if let route { metadata["route"] = "\(route)" }
        return metadata
    }

    static func describe(_ info: TLSSessionInfo?) -> String {
        info.map { "\($0.version)/\($0.cipher)" } ?? "none"
    }

    /// The fields about the client's TLS session beyond `client_tls`: whether it was resumed, the SNI name
    /// asked for and the client certificate's subject (the latter two when present).
    static func clientTLSFields(_ info: TLSSessionInfo?) -> Logger.Metadata {
        guard let info else { return [:] }
        var fields: Logger.Metadata = ["client_tls_resumed": "\(info.resumed)"]
        if let name = info.serverName { fields["client_sni"] = "\(name)" }
        if let subject = info.peerSubject { fields["client_cert"] = "\(subject)" }
        return fields
    }
}
