import PosternConfig
import PosternIO

/// TCP keepalive on client and backend sockets (`limits.tcp_keepalive`, `limits.tcp_keepalive_idle`): the
/// one place the settings reach the sockets (the listening sockets, at start and on reload, whose accepted
/// sockets inherit them, and the backend dialler).
extension Runtime {
    /// The keepalive of a configuration, or nil when it is off (interval and probe count: PosternIO's defaults).
    static func keepalive(_ limits: Limits) -> TCPKeepalive? {
        limits.tcpKeepalive ? TCPKeepalive(idle: limits.tcpKeepaliveIdle) : nil
    }

    /// The keepalive of this runtime's configuration.
    public var keepalive: TCPKeepalive? { Runtime.keepalive(config.limits) }

    /// The dialler for backend connections with the configured keepalive, resolving through the shared cache.
    static func systemDialler(keepalive: TCPKeepalive?) -> any Dialler {
        SystemDialler(resolver: .shared, keepalive: keepalive)
    }
}
