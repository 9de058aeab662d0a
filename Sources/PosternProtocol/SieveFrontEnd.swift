/// What a ManageSieve front end announces about the Sieve service behind it.
public struct SieveCapabilities: Sendable, Equatable {
    /// The Pigeonhole 0.5 (Dovecot 2.3) default `SIEVE` list.
    public static let pigeonholeExtensions =
        "fileinto reject envelope encoded-character vacation subaddress comparator-i;ascii-numeric relational regex "
        + "imap4flags copy include variables body enotify environment mailbox date index ihave duplicate mime "
        + "foreverypart extracttext"

    /// The `SIEVE` capability: the Sieve extensions the backends support, space-separated.
    public var sieve: String
    /// The `NOTIFY` capability (enotify methods); empty leaves it out.
    public var notify: String

    public init(sieve: String = SieveCapabilities.pigeonholeExtensions, notify: String = "mailto") {
        self.sieve = sieve
        self.notify = notify
    }
}

/// The client side of ManageSieve before authentication (RFC 5804): the capability greeting, CAPABILITY,
/// STARTTLS (after which the capabilities are sent again), AUTHENTICATE with the listener's SASL mechanisms
/// (initial response as a quoted string or a literal, or a continuation), NOOP and LOGOUT.
public struct SieveFrontEnd: EngineFrontEnd, Sendable {
    var engine: FrontEndEngine<Dialect>

    public init(options: FrontEndOptions, capabilities: SieveCapabilities = SieveCapabilities()) {
        let dialect = Dialect(reader: SieveCommandReader(maxLine: options.maxLine), service: capabilities)
        engine = FrontEndEngine(options: options, dialect: dialect)
    }

    /// The capability lines (without the closing OK).
    public var capabilities: String { engine.dialect.capabilities(engine.options) }
}
