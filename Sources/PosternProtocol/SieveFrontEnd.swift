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
public struct SieveFrontEnd: FrontEndMachine, Sendable {
    private enum State: Sendable {
        case ready
        /// Waiting for the client's SASL response (a string) after a challenge.
        case authenticating(SASLServerExchange)
        /// STARTTLS accepted: nothing the client sends is interpreted until the handshake finished.
        case startingTLS
        /// The session is logging in; bytes are buffered.
        case loggingIn
        case relaying
        case closed
    }

    private var options: FrontEndOptions
    private let service: SieveCapabilities
    private var reader: SieveCommandReader
    private var state: State = .ready
    private var attempts: AttemptCounter

    public init(options: FrontEndOptions, capabilities: SieveCapabilities = SieveCapabilities()) {
        self.options = options
        self.service = capabilities
        self.reader = SieveCommandReader(maxLine: options.maxLine)
        self.attempts = AttemptCounter(options: options)
    }

    /// The capability lines (without the closing OK).
    public var capabilities: String {
        var lines = [
            "\"IMPLEMENTATION\" \"Postern\"",
            "\"SASL\" \(SieveText.quoted(options.advertisedMechanisms.map(\.rawValue).joined(separator: " ")))",
            "\"SIEVE\" \(SieveText.quoted(service.sieve))",
        ]
        if !service.notify.isEmpty { lines.append("\"NOTIFY\" \(SieveText.quoted(service.notify))") }
        if options.starttlsOffered && !options.tlsActive { lines.append("\"STARTTLS\"") }
        lines.append("\"VERSION\" \"1.0\"")
        return lines.map { $0 + "\r\n" }.joined()
    }

    public mutating func greeting() -> [UInt8] { Array((capabilities + "OK \"Postern ready.\"\r\n").utf8) }
    public func timeoutMessage() -> [UInt8] { reply("BYE \"Login timeout.\"") }
    // Placeholder until the shared front-end machine lands (session-engine issue).
    public mutating func resume() -> [FrontEndAction] { [] }
    public var closeReason: FrontEndCloseReason? { nil }
    public func shutdownMessage() -> [UInt8] { reply("BYE \"Server shutting down.\"") }

    public mutating func receive(_ bytes: [UInt8]) -> [FrontEndAction] {
        switch state {
        case .closed, .relaying, .startingTLS: return []
        default: break
        }
        reader.append(bytes)
        if reader.discardedBytes > 2 * options.maxLine { return close("BYE \"Line too long.\"") }
        return process()
    }

    public mutating func tlsEstablished() -> [FrontEndAction] {
        guard case .startingTLS = state else { return [] }
        options.tlsActive = true
        state = .ready
        // RFC 5804 §2.2: the capabilities again, as they are now, then OK.
        return [.send(Array((capabilities + "OK \"TLS negotiation successful.\"\r\n").utf8))] + process()
    }

    public mutating func loginFinished(_ outcome: LoginOutcome) -> [FrontEndAction] {
        guard case .loggingIn = state else { return [] }
        switch outcome {
        case .success(let text):
            state = .relaying
            return [.send(reply(text)), .relay(pipelined: reader.takeBuffered())]
        case .rejected(let text):
            return failed(reply(text))
        case .unknownUser:
            return failed(reply("NO \"Authentication failed.\""))
        case .unavailable(let reason):
            return failed(reply("NO (TRYLATER) \(SieveText.quoted(reason))"))
        }
    }

    private mutating func failed(_ response: [UInt8]) -> [FrontEndAction] {
        if attempts.loginFailed() {
            state = .closed
            return [.send(response + reply("BYE \"Too many failed logins.\"")), .close]
        }
        state = .ready
        return [.send(response)] + process()
    }

    private func reply(_ text: String) -> [UInt8] { Array("\(text)\r\n".utf8) }

    private mutating func close(_ text: String) -> [FrontEndAction] {
        state = .closed
        return [.send(reply(text)), .close]
    }

    /// A `NO` for an invalid command; too many of them close the connection.
    private mutating func no(_ reason: String) -> [FrontEndAction] {
        let response = reply("NO \(SieveText.quoted(reason))")
        if attempts.badCommand() {
            state = .closed
            return [.send(response + reply("BYE \"Too many invalid commands.\"")), .close]
        }
        return [.send(response)]
    }

    /// Handles buffered input until it runs out or the state stops command processing.
    private mutating func process() -> [FrontEndAction] {
        var actions: [FrontEndAction] = []
        while true {
            switch state {
            case .ready, .authenticating: break
            case .loggingIn, .relaying, .closed, .startingTLS: return actions
            }
            guard let event = reader.next() else { return actions }
            switch event {
            case .tooLong:
                state = .ready
                actions += no("Line too long.")
                if case .closed = state { return actions }
                if reader.discardedBytes > 2 * options.maxLine { return actions + close("BYE \"Line too long.\"") }
            case .unrecoverable(let reason):
                return actions + close("BYE \(SieveText.quoted(reason + "."))")
            case .line(let bytes, let segments):
                if case .authenticating(let exchange) = state {
                    actions += saslResponse(exchange, SieveCommandReader.parseString(bytes: bytes, segments: segments))
                } else {
                    actions += handle(bytes: bytes, segments: segments)
                }
            }
        }
    }

    private mutating func handle(bytes: [UInt8], segments: [Range<Int>]) -> [FrontEndAction] {
        let command: SieveCommand
        switch SieveCommandReader.parseCommand(bytes: bytes, segments: segments) {
        case .failure(let error): return no("\(error.reason).")
        case .success(let parsed): command = parsed
        }
        let args = command.arguments
        switch command.name {
        case "CAPABILITY":
            guard args.isEmpty else { return no("CAPABILITY takes no arguments.") }
            return [.send(Array((capabilities + "OK \"Capability completed.\"\r\n").utf8))]
        case "NOOP":
            guard args.count <= 1 else { return no("NOOP takes at most one argument.") }
            if let tag = args.first {
                guard case .string(let text) = tag, let tagText = String(validating: text, as: UTF8.self) else {
                    return no("NOOP expects a string.")
                }
                return [.send(reply("OK (TAG \(SieveText.quoted(tagText))) \"Done.\""))]
            }
            return [.send(reply("OK \"NOOP completed.\""))]
        case "LOGOUT":
            return close("OK \"Logout completed.\"")
        case "STARTTLS":
            guard args.isEmpty else { return no("STARTTLS takes no arguments.") }
            guard options.starttlsOffered, !options.tlsActive else {
                return no(options.tlsActive ? "TLS is already active." : "STARTTLS is not available.")
            }
            // Anything pipelined after STARTTLS arrived in plaintext: drop it.
            _ = reader.takeBuffered()
            state = .startingTLS
            return [.send(reply("OK \"Begin TLS negotiation now.\"")), .startTLS]
        case "AUTHENTICATE":
            return authenticate(args)
        default:
            return no("Unknown command or not valid before login.")
        }
    }

    private mutating func authenticate(_ args: [IMAPArgument]) -> [FrontEndAction] {
        guard args.count == 1 || args.count == 2, case .string(let nameBytes) = args[0] else {
            return no("AUTHENTICATE expects a mechanism name as a string.")
        }
        guard let mechanism = options.mechanism(named: String(decoding: nameBytes, as: UTF8.self)) else {
            return [.send(reply("NO \"Unsupported authentication mechanism.\""))]
        }
        guard options.loginAllowed else {
            return [.send(reply("NO (ENCRYPT-NEEDED) \"Authentication is disabled; use STARTTLS first.\""))]
        }
        var exchange = SASLServerExchange(mechanism: mechanism)
        if args.count == 2 {
            guard case .string(let initial) = args[1] else { return no("The initial response must be a string.") }
            return saslResponse(exchange, initial, isInitial: true)
        }
        let step = exchange.start(initialResponse: nil)
        return saslStep(exchange, step)
    }

    private mutating func saslResponse(_ exchange: SASLServerExchange, _ string: [UInt8]?, isInitial: Bool = false)
        -> [FrontEndAction]
    {
        state = .ready
        guard let string else { return no("Expected a SASL response string.") }
        var exchange = exchange
        // In ManageSieve an initial response is a plain string: empty means empty, `*` is not special.
        let response =
            isInitial
            ? (SASL.base64Decode(string).map(SASLServerExchange.Response.data) ?? .invalidBase64)
            : SASLServerExchange.decodeResponse(string)
        switch response {
        case .cancelled:
            return [.send(reply("NO \"Authentication cancelled.\""))]
        case .invalidBase64:
            return no("Invalid base64 data.")
        case .data(let data):
            let step = isInitial ? exchange.start(initialResponse: data) : exchange.next(data)
            return saslStep(exchange, step)
        }
    }

    private mutating func saslStep(_ exchange: SASLServerExchange, _ step: SASLServerExchange.Step)
        -> [FrontEndAction]
    {
        switch step {
        case .challenge(let challenge):
            state = .authenticating(exchange)
            return [.send(reply("\"\(SASL.base64Encode(challenge))\""))]
        case .malformed(let reason):
            state = .ready
            return no("\(reason).")
        case .done(let request):
            state = .loggingIn
            return [.login(request)]
        }
    }
}
