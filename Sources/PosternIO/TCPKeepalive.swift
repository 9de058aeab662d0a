/// TCP keepalive for a socket (SO_KEEPALIVE with TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT): a peer that
/// vanished without a FIN or RST is noticed after about `idle + interval * count` seconds of silence.
public struct TCPKeepalive: Sendable, Equatable {
    /// Seconds of silence before the first probe. Default 120.
    public var idle: Int
    /// Seconds between unanswered probes. Default 30.
    public var interval: Int
    /// Unanswered probes after which the connection is dropped (reads then fail with ETIMEDOUT). Default 4.
    public var count: Int

    /// The documented defaults: first probe after 120 s of silence, then every 30 s, dropped after 4 (6 min).
    public init(idle: Int = 120, interval: Int = 30, count: Int = 4) {
        self.idle = idle
        self.interval = interval
        self.count = count
    }

    /// Idle 120 s, interval 30 s, 4 probes.
    public static let `default` = TCPKeepalive()
}
