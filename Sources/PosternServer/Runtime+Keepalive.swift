import PosternConfig
import PosternIO

/// TCP keepalive on client and backend sockets (`limits.tcp_keepalive`, `limits.tcp_keepalive_idle`).
///
/// The one place the settings reach the sockets. PosternIO's `TCPKeepalive` and
/// `SystemDialler(resolver:keepalive:)` land on another branch: until they are merged, `keepalive` gives
/// the settings and `systemDialler(keepalive:)` still makes the plain `SystemDialler()`, and `Server` does
/// not yet pass them to its listeners. At the merge these two functions (and the `Listener` call in
/// `Server.start`) are what to connect.
extension Runtime {
    /// The keepalive idle time in seconds, or nil when keepalive is off.
    static func keepalive(_ limits: Limits) -> Int? {
        limits.tcpKeepalive ? limits.tcpKeepaliveIdle : nil
    }

    /// The keepalive of this runtime's configuration.
    public var keepalive: Int? { Runtime.keepalive(config.limits) }

    /// The dialler for backend connections with the configured keepalive.
    static func systemDialler(keepalive: Int?) -> any Dialler {
        // Placeholder until PosternIO's keepalive lands: SystemDialler(resolver:keepalive:) then.
        SystemDialler()
    }
}
