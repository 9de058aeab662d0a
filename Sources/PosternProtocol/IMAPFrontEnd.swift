/// Settings of the IMAP front end that come from the listener.
public struct FrontEndOptions: Sendable, Equatable {
    /// The listener can upgrade with STARTTLS.
    public var starttlsOffered: Bool
    /// The connection is already encrypted (implicit TLS).
    public var tlsActive: Bool
    /// Plaintext logins are refused until TLS is active (`starttls-required`).
    public var tlsRequiredForLogin: Bool
    /// Longest command line or literal accepted before login.
    public var maxLine: Int
    /// Failed logins allowed on one connection.
    public var maxLoginAttempts: Int
    /// Invalid commands tolerated before the connection is closed.
    public var maxBadCommands: Int = 10

    public init(
        starttlsOffered: Bool, tlsActive: Bool, tlsRequiredForLogin: Bool, maxLine: Int, maxLoginAttempts: Int
    ) {
        self.starttlsOffered = starttlsOffered
        self.tlsActive = tlsActive
        self.tlsRequiredForLogin = tlsRequiredForLogin
        self.maxLine = maxLine
        self.maxLoginAttempts = maxLoginAttempts
    }
}

/// The client side of IMAP before authentication (RFC 9051/3501 subset): greeting, CAPABILITY, NOOP,
/// LOGOUT, STARTTLS, ID, LOGIN and AUTHENTICATE PLAIN.
public struct IMAPFrontEnd: FrontEndMachine, Sendable {
    private enum State: Sendable {
        case ready
        /// Waiting for the client's SASL response after `+ `.
        case authenticating(tag: String)
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
    private var failedLogins = 0
    private var badCommands = 0
    /// The client's `ID` parameters, kept for logs and later forwarding.
    public private(set) var clientID: [(String, String?)] = []

    public init(options: FrontEndOptions) {
        self.options = options
        self.reader = IMAPCommandReader(maxLine: options.maxLine)
    }

    private var loginAllowed: Bool { options.tlsActive || !options.tlsRequiredForLogin }

    /// The pre-authentication capability list.
    public var capabilities: String {
        var caps = ["IMAP4rev1", "SASL-IR", "LITERAL+", "ID"]
        if options.starttlsOffered && !options.tlsActive { caps.append("STARTTLS") }
        if loginAllowed { caps.append("AUTH=PLAIN") } else { caps.append("LOGINDISABLED") }
        return caps.joined(separator: " ")
    }

    public mutating func greeting() -> [UInt8] {
        Array("* OK [CAPABILITY \(capabilities)] Postern ready.\r\n".utf8)
    }

    public func timeoutMessage() -> [UInt8] { Array("* BYE Login timeout.\r\n".utf8) }
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
        failedLogins += 1
        if failedLogins >= options.maxLoginAttempts {
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
            case .authenticating(let tag):
                guard let event = reader.nextLine() else { break loop }
                switch event {
                case .line(let response):
                    actions += saslResponse(tag: tag, response)
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
        badCommands += 1
        let response = line(tag ?? "*", "BAD \(reason).")
        if badCommands >= options.maxBadCommands {
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
        guard args.count == 1 || args.count == 2, case .atom(let mechanism) = args[0] else {
            return bad(tag, "AUTHENTICATE expects a mechanism")
        }
        guard mechanism.uppercased() == "PLAIN" else {
            return [.send(line(tag, "NO Unsupported authentication mechanism."))]
        }
        guard loginAllowed else {
            return [.send(line(tag, "NO [PRIVACYREQUIRED] Authentication is disabled; use STARTTLS first."))]
        }
        if args.count == 2 {
            guard let initial = args[1].astring else { return bad(tag, "Invalid initial response") }
            return saslResponse(tag: tag, initial == [UInt8(ascii: "=")] ? [] : initial, isInitial: true)
        }
        state = .authenticating(tag: tag)
        return [.send(Array("+ \r\n".utf8))]
    }

    private mutating func saslResponse(tag: String, _ response: [UInt8], isInitial: Bool = false) -> [FrontEndAction] {
        state = .ready
        if !isInitial && response == [UInt8(ascii: "*")] {
            return [.send(line(tag, "BAD AUTHENTICATE cancelled."))]
        }
        guard let decoded = SASL.base64Decode(response) else { return bad(tag, "Invalid base64") }
        guard let credentials = SASL.decodePlain(decoded) else {
            return [.send(line(tag, "NO [AUTHENTICATIONFAILED] Malformed PLAIN response."))]
        }
        state = .loggingIn(tag: tag)
        return [.login(LoginRequest(credentials: credentials, mechanism: .plain))]
    }
}
