/// The client side of IMAP before authentication (RFC 9051/3501 subset): greeting, CAPABILITY, NOOP,
/// LOGOUT, STARTTLS, ID, LOGIN and AUTHENTICATE with the listener's SASL mechanisms.
public struct IMAPFrontEnd: FrontEndMachine, Sendable {
    private enum State: Sendable {
        case ready
        /// Waiting for the client's SASL response after `+ `.
        case authenticating(tag: String, exchange: SASLServerExchange)
        /// STARTTLS accepted: nothing the client sends is interpreted until the handshake finished.
        case startingTLS
        /// The session is logging in; bytes are buffered.
        case loggingIn(tag: String)
        case relaying
        case closed
    }

    private var options: FrontEndOptions
    private var reader: IMAPCommandReader
    private var state: State = .ready
    private var attempts: AttemptCounter
    /// The client's `ID` parameters, kept for logs and later forwarding.
    public private(set) var clientID: [(String, String?)] = []

    public init(options: FrontEndOptions) {
        self.options = options
        self.reader = IMAPCommandReader(maxLine: options.maxLine)
        self.attempts = AttemptCounter(options: options)
    }

    private var loginAllowed: Bool { options.loginAllowed }

    /// The pre-authentication capability list.
    public var capabilities: String {
        var caps = ["IMAP4rev1", "SASL-IR", "LITERAL+", "ID"]
        if options.starttlsOffered && !options.tlsActive { caps.append("STARTTLS") }
        caps += options.advertisedMechanisms.map { "AUTH=\($0.rawValue)" }
        if !options.passwordLoginAllowed { caps.append("LOGINDISABLED") }
        return caps.joined(separator: " ")
    }

    public mutating func greeting() -> [UInt8] {
        Array("* OK [CAPABILITY \(capabilities)] Postern ready.\r\n".utf8)
    }

    public func timeoutMessage() -> [UInt8] { Array("* BYE Login timeout.\r\n".utf8) }
    // Placeholder until the shared front-end machine lands (session-engine issue).
    public mutating func resume() -> [FrontEndAction] { [] }
    public var closeReason: FrontEndCloseReason? { nil }
    public func shutdownMessage() -> [UInt8] { Array("* BYE Server shutting down.\r\n".utf8) }

    public mutating func receive(_ bytes: [UInt8]) -> [FrontEndAction] {
        switch state {
        case .closed, .relaying, .startingTLS: return []
        default: break
        }
        reader.append(bytes)
        if reader.discardedBytes > 2 * options.maxLine { return closeForLongLine() }
        return process()
    }

    public mutating func tlsEstablished() -> [FrontEndAction] {
        options.tlsActive = true
        if case .startingTLS = state { state = .ready }
        return process()
    }

    public mutating func loginFinished(_ outcome: LoginOutcome) -> [FrontEndAction] {
        guard case .loggingIn(let tag) = state else { return [] }
        switch outcome {
        case .success(let text):
            state = .relaying
            return [.send(line(tag, text)), .relay(pipelined: reader.takeBuffered())]
        case .rejected(let text):
            return failed(tag: tag, response: line(tag, text))
        case .unknownUser:
            return failed(tag: tag, response: line(tag, "NO [AUTHENTICATIONFAILED] Authentication failed."))
        case .unavailable(let reason):
            return failed(tag: tag, response: line(tag, "NO [UNAVAILABLE] \(reason)"))
        }
    }

    private mutating func failed(tag: String, response: [UInt8]) -> [FrontEndAction] {
        if attempts.loginFailed() {
            state = .closed
            return [.send(response + Array("* BYE Too many failed logins.\r\n".utf8)), .close]
        }
        state = .ready
        return [.send(response)] + process()
    }

    private func line(_ tag: String, _ text: String) -> [UInt8] { Array("\(tag) \(text)\r\n".utf8) }

    /// Handles buffered input until it runs out or the state stops command processing.
    private mutating func process() -> [FrontEndAction] {
        var actions: [FrontEndAction] = []
        loop: while true {
            switch state {
            case .ready: break
            case .authenticating(let tag, let exchange):
                guard let event = reader.nextLine() else { break loop }
                switch event {
                case .line(let response):
                    actions += saslResponse(tag: tag, exchange: exchange, SASLServerExchange.decodeResponse(response))
                case .tooLong:
                    state = .ready
                    actions += bad(tag, "AUTHENTICATE response too long")
                    actions += closeIfTooMuchDiscarded()
                }
                continue
            case .loggingIn, .relaying, .closed, .startingTLS: break loop
            }
            guard let event = reader.next() else { break }
            switch event {
            case .continuationNeeded:
                actions.append(.send(Array("+ Ready for literal data\r\n".utf8)))
            case .tooLong(let tag):
                actions += bad(tag, "Command line too long")
                actions += closeIfTooMuchDiscarded()
            case .unrecoverable(let tag, let reason):
                state = .closed
                actions += [.send(line(tag ?? "*", "BAD \(reason).") + Array("* BYE \(reason).\r\n".utf8)), .close]
            case .bad(let tag, let reason):
                actions += bad(tag, reason)
            case .command(let command):
                actions += handle(command)
            }
            if case .closed = state { break }
        }
        return actions
    }

    /// A line too long to keep reading ends the connection.
    private mutating func closeForLongLine() -> [FrontEndAction] {
        state = .closed
        return [.send(Array("* BYE Command line too long.\r\n".utf8)), .close]
    }

    /// After an overlong line: close if it was far too long (and the connection is not closed yet).
    private mutating func closeIfTooMuchDiscarded() -> [FrontEndAction] {
        if case .closed = state { return [] }
        return reader.discardedBytes > 2 * options.maxLine ? closeForLongLine() : []
    }

    private mutating func bad(_ tag: String?, _ reason: String) -> [FrontEndAction] {
        let response = line(tag ?? "*", "BAD \(reason).")
        if attempts.badCommand() {
            state = .closed
            return [.send(response + Array("* BYE Too many invalid commands.\r\n".utf8)), .close]
        }
        return [.send(response)]
    }

    private mutating func handle(_ command: IMAPCommand) -> [FrontEndAction] {
        let tag = command.tag
        let args = command.arguments
        switch command.name {
        case "CAPABILITY":
            guard args.isEmpty else { return bad(tag, "CAPABILITY takes no arguments") }
            return [.send(Array("* CAPABILITY \(capabilities)\r\n".utf8) + line(tag, "OK CAPABILITY completed."))]
        case "NOOP":
            guard args.isEmpty else { return bad(tag, "NOOP takes no arguments") }
            return [.send(line(tag, "OK NOOP completed."))]
        case "LOGOUT":
            state = .closed
            return [.send(Array("* BYE Logging out.\r\n".utf8) + line(tag, "OK LOGOUT completed.")), .close]
        case "ENABLE":
            return [.send(line(tag, "BAD ENABLE is only valid after login."))]
        case "ID":
            return handleID(tag: tag, args: args)
        case "STARTTLS":
            guard args.isEmpty else { return bad(tag, "STARTTLS takes no arguments") }
            guard options.starttlsOffered, !options.tlsActive else {
                return bad(tag, options.tlsActive ? "TLS is already active" : "STARTTLS is not available")
            }
            // Anything the client pipelined after STARTTLS arrived in plaintext: drop it (RFC 9051 §6.2.1).
            _ = reader.takeBuffered()
            state = .startingTLS
            return [.send(line(tag, "OK Begin TLS negotiation now.")), .startTLS]
        case "LOGIN":
            guard args.count == 2, let user = args[0].astring, let password = args[1].astring else {
                return bad(tag, "LOGIN expects a user name and a password")
            }
            guard loginAllowed else {
                return [.send(line(tag, "NO [PRIVACYREQUIRED] Plaintext login is disabled; use STARTTLS first."))]
            }
            guard options.passwordLoginAllowed else {
                return [.send(line(tag, "NO [CANNOT] LOGIN is disabled on this port."))]
            }
            guard let userText = String(validating: user, as: UTF8.self),
                let passwordText = String(validating: password, as: UTF8.self)
            else { return bad(tag, "LOGIN arguments must be UTF-8") }
            guard !userText.isEmpty else { return bad(tag, "LOGIN user name is empty") }
            state = .loggingIn(tag: tag)
            return [
                .login(
                    LoginRequest(credentials: Credentials(user: userText, password: passwordText), mechanism: .login))
            ]
        case "AUTHENTICATE":
            return handleAuthenticate(tag: tag, args: args)
        default:
            return bad(tag, "Unknown command or not valid before login")
        }
    }

    private mutating func handleID(tag: String, args: [IMAPArgument]) -> [FrontEndAction] {
        guard args.count == 1 else { return bad(tag, "ID expects one argument") }
        switch args[0] {
        case .atom(let text) where text.uppercased() == "NIL":
            clientID = []
        case .list(let items):
            guard items.count % 2 == 0, items.count <= 60 else { return bad(tag, "ID expects field-value pairs") }
            var pairs: [(String, String?)] = []
            var index = 0
            while index < items.count {
                guard case .string(let key) = items[index] else { return bad(tag, "ID field names are strings") }
                let value: String?
                switch items[index + 1] {
                case .string(let bytes): value = String(decoding: bytes, as: UTF8.self)
                case .atom(let text) where text.uppercased() == "NIL": value = nil
                default: return bad(tag, "ID values are strings or NIL")
                }
                pairs.append((String(decoding: key, as: UTF8.self), value))
                index += 2
            }
            clientID = pairs
        default:
            return bad(tag, "ID expects a list or NIL")
        }
        return [.send(Array("* ID NIL\r\n".utf8) + line(tag, "OK ID completed."))]
    }

    private mutating func handleAuthenticate(tag: String, args: [IMAPArgument]) -> [FrontEndAction] {
        guard args.count == 1 || args.count == 2, case .atom(let name) = args[0] else {
            return bad(tag, "AUTHENTICATE expects a mechanism")
        }
        guard let mechanism = options.mechanism(named: name) else {
            return [.send(line(tag, "NO Unsupported authentication mechanism."))]
        }
        guard loginAllowed else {
            return [.send(line(tag, "NO [PRIVACYREQUIRED] Authentication is disabled; use STARTTLS first."))]
        }
        var exchange = SASLServerExchange(mechanism: mechanism)
        if args.count == 2 {
            guard let initial = args[1].astring else { return bad(tag, "Invalid initial response") }
            return saslResponse(
                tag: tag, exchange: exchange, SASLServerExchange.decodeInitialResponse(initial), isInitial: true)
        }
        let step = exchange.start(initialResponse: nil)
        return saslStep(tag: tag, exchange: exchange, step)
    }

    private mutating func saslResponse(
        tag: String, exchange: SASLServerExchange, _ response: SASLServerExchange.Response, isInitial: Bool = false
    ) -> [FrontEndAction] {
        state = .ready
        var exchange = exchange
        switch response {
        case .cancelled where !isInitial:
            return [.send(line(tag, "BAD AUTHENTICATE cancelled."))]
        case .cancelled, .invalidBase64:
            return bad(tag, "Invalid base64")
        case .data(let data):
            let step = isInitial ? exchange.start(initialResponse: data) : exchange.next(data)
            return saslStep(tag: tag, exchange: exchange, step)
        }
    }

    private mutating func saslStep(tag: String, exchange: SASLServerExchange, _ step: SASLServerExchange.Step)
        -> [FrontEndAction]
    {
        switch step {
        case .challenge(let challenge):
            state = .authenticating(tag: tag, exchange: exchange)
            return [.send(Array("+ \(SASL.base64Encode(challenge))\r\n".utf8))]
        case .malformed(let reason):
            state = .ready
            let response = line(tag, "NO [AUTHENTICATIONFAILED] \(reason).")
            if attempts.badCommand() {
                state = .closed
                return [.send(response + Array("* BYE Too many invalid commands.\r\n".utf8)), .close]
            }
            return [.send(response)]
        case .done(let request):
            state = .loggingIn(tag: tag)
            return [.login(request)]
        }
    }
}
