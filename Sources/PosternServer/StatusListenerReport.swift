import PosternConfig

/// One listener as the status page shows it: protocol, addresses, TLS mode and posture, sessions now and
/// logins in the last minute by result.
struct StatusListenerReport: Sendable, Equatable, Encodable {
    let name: String
    let proto: String
    /// The bound addresses (empty while draining or when the bind failed), else the configured ones.
    let addresses: [String]
    let bound: Bool
    /// `none`, `starttls`, `starttls-required` or `implicit`.
    let tls: String
    let sessions: Int
    /// Logins in the last `loginWindow` seconds, by result label (every result present).
    let logins: [String: Int]
    /// Seconds the login counts cover: 60, or less while the process is younger.
    let loginWindow: Int
    /// Nil for a listener without TLS.
    let tlsPosture: StatusTLSPosture?

    init(
        _ listener: ListenerConfig, bound: [String]?, sessions: Int, logins: LoginCounts, loginWindow: Int,
        tlsPosture: StatusTLSPosture?
    ) {
        name = listener.name
        proto = listener.proto.rawValue
        self.bound = !(bound ?? []).isEmpty
        addresses = self.bound ? (bound ?? []) : listener.listen.map(\.description)
        tls = listener.tls.rawValue
        self.sessions = sessions
        self.logins = logins.byLabel
        self.loginWindow = loginWindow
        self.tlsPosture = tlsPosture
    }

    private enum CodingKeys: String, CodingKey {
        case name, proto = "protocol", addresses, bound, tls, sessions, logins, loginWindow = "login_window_s"
        case tlsPosture = "tls_posture"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(proto, forKey: .proto)
        try container.encode(addresses, forKey: .addresses)
        try container.encode(bound, forKey: .bound)
        try container.encode(tls, forKey: .tls)
        try container.encode(sessions, forKey: .sessions)
        try container.encode(logins, forKey: .logins)
        try container.encode(loginWindow, forKey: .loginWindow)
        try container.encode(tlsPosture, forKey: .tlsPosture)
    }
}
