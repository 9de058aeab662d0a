import PosternConfig

/// The client's address as the guards count it.
extension Session {
    /// The client's address: the one a trusted PROXY header named, else the socket's peer. The one
    /// accessor the limits and the throttle use.
    var clientIP: IPAddress? { identity.address }
}
