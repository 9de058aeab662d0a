import Logging
import PosternTLS

extension Session {
    /// The session log line's fields about the client's TLS session beyond `client_tls`: whether it was
    /// resumed, the SNI name asked for and the client certificate's subject (the latter two when present).
    static func clientTLSFields(_ info: TLSSessionInfo?) -> Logger.Metadata {
        guard let info else { return [:] }
        var fields: Logger.Metadata = ["client_tls_resumed": "\(info.resumed)"]
        if let name = info.serverName { fields["client_sni"] = "\(name)" }
        if let subject = info.peerSubject { fields["client_cert"] = "\(subject)" }
        return fields
    }
}
