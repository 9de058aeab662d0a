import PosternConfig

/// The client's address as the guards count it.
extension Session {
    /// The client's address: today the socket's peer. The one accessor the limits and the throttle use, so
    /// that a client identity from a PROXY header can take its place.
    var clientIP: IPAddress? {
        client.peerAddress.flatMap { IPAddress($0.host) }
    }
}
