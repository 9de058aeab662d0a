/// Keepalive on a socket accepted elsewhere (the server applies the keepalive of the configuration in
/// service at accept time, so a reload changes it for new connections).
extension TCPKeepalive {
    /// Turns keepalive on for `fd` with these timings (clamped to what Linux accepts).
    public func apply(to fd: Int32) { SocketOps.setKeepalive(fd, self) }
}
