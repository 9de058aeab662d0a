/// A protocol's variants of the texts the front-end engine writes. The defaults are the texts most of the
/// protocols share. Texts are reasons without their final period (the engine adds it); codes carry their
/// brackets (`[AUTH]`, `(TRYLATER)`), nil for none.
struct FrontEndWording: Sendable {
    /// The name of the STARTTLS command (POP3: STLS).
    var startTLSCommand = "STARTTLS"
    var lineTooLong = "Line too long"
    /// A SASL response over the line bound.
    var saslResponseTooLong = "Line too long"
    /// The client cancelled a SASL exchange (`*`).
    var saslCancelled = "Authentication cancelled"
    var invalidBase64 = "Invalid base64 data"
    var loginTimeout = "Login timeout"
    var shuttingDown = "Server shutting down"
    /// The response code for a refusal until TLS is active.
    var encryptionNeeded: String?
    /// The response code for a failed authentication.
    var authenticationFailed: String?
    /// The response code for "no backend available, try later".
    var unavailable: String?
    /// The response code for a login method this listener does not offer.
    var cannot: String?
    /// Whether a refusal that ends the connection (the last invalid command or failed login allowed) is
    /// followed by the farewell. POP3 has no untagged responses: there the refusal is the last word.
    var farewellAfterRefusal = true
}
