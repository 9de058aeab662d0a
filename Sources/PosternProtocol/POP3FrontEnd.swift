/// The client side of POP3 before authentication (RFC 1939, CAPA RFC 2449, STLS RFC 2595, AUTH RFC 5034):
/// greeting, CAPA, STLS, USER/PASS, AUTH with the listener's SASL mechanisms, QUIT. APOP cannot be
/// proxied (its challenge would have to come from the backend) and is refused like any other command.
public struct POP3FrontEnd: EngineFrontEnd, Sendable {
    var engine: FrontEndEngine<Dialect>

    public init(options: FrontEndOptions) {
        engine = FrontEndEngine(options: options, dialect: Dialect(reader: LineReader(maxLine: options.maxLine)))
    }

    /// The CAPA list (RFC 2449) before login, one capability a line.
    public var capabilities: [String] { Dialect.capabilities(engine.options) }
}
