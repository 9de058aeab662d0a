/// The client side of IMAP before authentication (RFC 9051/3501 subset): greeting, CAPABILITY, NOOP,
/// LOGOUT, STARTTLS, ID, LOGIN and AUTHENTICATE with the listener's SASL mechanisms.
public struct IMAPFrontEnd: EngineFrontEnd, Sendable {
    var engine: FrontEndEngine<Dialect>

    public init(options: FrontEndOptions) {
        engine = FrontEndEngine(options: options, dialect: Dialect(reader: IMAPCommandReader(maxLine: options.maxLine)))
    }

    /// The pre-authentication capability list.
    public var capabilities: String { engine.dialect.capabilities(engine.options) }

    /// The client's `ID` parameters, kept for logs and later forwarding.
    public var clientID: [(String, String?)] { engine.dialect.clientID }
}
