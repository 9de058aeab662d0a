import PosternConfig

/// What the login throttle needs to record an attempt's result after its credentials are gone: the name,
/// the keyed hash of name and secret (never the secret), and the client's address.
struct ThrottleNote {
    let generation: Int
    let user: String
    let fingerprint: UInt64
    let client: IPAddress
}
