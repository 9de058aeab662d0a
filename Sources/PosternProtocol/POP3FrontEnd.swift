/// The client side of POP3 before authentication (RFC 1939, CAPA RFC 2449, STLS RFC 2595, AUTH RFC 5034):
/// greeting, CAPA, STLS, USER/PASS, AUTH with the listener's SASL mechanisms, QUIT. APOP cannot be
/// proxied (its challenge would have to come from the backend) and is refused like any other command.
public struct POP3FrontEnd: FrontEndMachine, Sendable {
    private enum State: Sendable {
        case ready
        /// Waiting for the client's SASL response after `+ `.
        case authenticating(SASLServerExchange)
        /// STLS accepted: nothing the client sends is interpreted until the handshake finished.
        case startingTLS
        /// The session is logging in; bytes are buffered.
        case loggingIn
        case relaying
        case closed
    }

    private var options: FrontEndOptions
    private var reader: LineReader
    private var state: State = .ready
    private var attempts: AttemptCounter
    /// The name given with USER, waiting for PASS.
    private var pendingUser: String?

    public init(options: FrontEndOptions) {
        self.options = options
        self.reader = LineReader(maxLine: options.maxLine)
        self.attempts = AttemptCounter(options: options)
    }

    /// The CAPA list (RFC 2449) before login, one capability a line.
    public var capabilities: [String] {
        var caps = ["TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING"]
        if options.passwordLoginAllowed { caps.append("USER") }
        let mechanisms = options.advertisedMechanisms
        if !mechanisms.isEmpty { caps.append("SASL " + mechanisms.map(\.rawValue).joined(separator: " ")) }
        if options.starttlsOffered && !options.tlsActive { caps.append("STLS") }
        caps.append("IMPLEMENTATION Postern")
        return caps
    }

    public mutating func greeting() -> [UInt8] { reply("+OK Postern ready.") }
    public func timeoutMessage() -> [UInt8] { reply("-ERR Disconnected: login timeout.") }
    // Placeholder until the shared front-end machine lands (session-engine issue).
    public mutating func resume() -> [FrontEndAction] { [] }
    public var closeReason: FrontEndCloseReason? { nil }
    public func shutdownMessage() -> [UInt8] { reply("-ERR Disconnected: server shutting down.") }

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
        guard case .loggingIn = state else { return [] }
        switch outcome {
        case .success(let text):
            state = .relaying
            return [.send(reply(text)), .relay(pipelined: reader.takeBuffered())]
        case .rejected(let text):
            return failed(reply(text))
        case .unknownUser:
            return failed(reply("-ERR [AUTH] Authentication failed."))
        case .unavailable(let reason):
            return failed(reply("-ERR [SYS/TEMP] \(reason)"))
        }
    }

    private mutating func failed(_ response: [UInt8]) -> [FrontEndAction] {
        if attempts.loginFailed() {
            // POP3 has no untagged farewell: the refusal is the last word.
            state = .closed
            return [.send(response), .close]
        }
        state = .ready
        return [.send(response)] + process()
    }

    private func reply(_ text: String) -> [UInt8] { Array("\(text)\r\n".utf8) }

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
                actions += error("-ERR Line too long.")
                if case .closed = state { return actions }
                if reader.discardedBytes > 2 * options.maxLine { return actions + closeForLongLine() }
            case .line(let line):
                if case .authenticating(let exchange) = state {
                    actions += saslResponse(exchange, SASLServerExchange.decodeResponse(line))
                } else {
                    actions += handle(line)
                }
            }
        }
    }

    private mutating func closeForLongLine() -> [FrontEndAction] {
        state = .closed
        return [.send(reply("-ERR Line too long.")), .close]
    }

    /// An `-ERR` for an invalid command; too many of them close the connection.
    private mutating func error(_ text: String) -> [FrontEndAction] {
        if attempts.badCommand() {
            state = .closed
            return [.send(reply(text)), .close]
        }
        return [.send(reply(text))]
    }

    private mutating func handle(_ line: [UInt8]) -> [FrontEndAction] {
        let space = line.firstIndex(of: 32)
        let keyword = String(decoding: line[..<(space ?? line.count)], as: UTF8.self).uppercased()
        let argument = space.map { Array(line[($0 + 1)...]) }
        if keyword != "PASS" && keyword != "USER" { pendingUser = nil }
        switch keyword {
        case "CAPA":
            guard argument == nil else { return error("-ERR CAPA takes no arguments.") }
            let list = capabilities.map { $0 + "\r\n" }.joined()
            return [.send(Array("+OK Capability list follows\r\n\(list).\r\n".utf8))]
        case "QUIT":
            state = .closed
            return [.send(reply("+OK Logging out.")), .close]
        case "NOOP":
            return error("-ERR NOOP is only valid after login.")
        case "STLS":
            guard argument == nil else { return error("-ERR STLS takes no arguments.") }
            guard options.starttlsOffered, !options.tlsActive else {
                return error(options.tlsActive ? "-ERR TLS is already active." : "-ERR STLS is not available.")
            }
            // Anything pipelined after STLS arrived in plaintext: drop it (RFC 2595 §4).
            _ = reader.takeBuffered()
            state = .startingTLS
            return [.send(reply("+OK Begin TLS negotiation now.")), .startTLS]
        case "USER":
            return user(argument)
        case "PASS":
            return pass(argument)
        case "AUTH":
            return authenticate(argument)
        default:
            return error("-ERR Unknown command or not valid before login.")
        }
    }

    private mutating func user(_ argument: [UInt8]?) -> [FrontEndAction] {
        pendingUser = nil
        guard options.loginAllowed else {
            return [.send(reply("-ERR [AUTH] Plaintext login is disabled; use STLS first."))]
        }
        guard options.passwordLoginAllowed else { return [.send(reply("-ERR USER is disabled on this port."))] }
        guard let argument, !argument.isEmpty, let name = SASL.validUser(argument[...]) else {
            return error("-ERR USER expects a user name.")
        }
        pendingUser = name
        return [.send(reply("+OK"))]
    }

    private mutating func pass(_ argument: [UInt8]?) -> [FrontEndAction] {
        guard let user = pendingUser else { return error("-ERR No user name given; send USER first.") }
        pendingUser = nil
        // The password is the rest of the line, spaces included (RFC 1939 leaves it to the server).
        guard let argument, let password = String(validating: argument, as: UTF8.self), !password.contains("\0")
        else { return error("-ERR PASS expects a password.") }
        state = .loggingIn
        return [.login(LoginRequest(credentials: Credentials(user: user, password: password), mechanism: .login))]
    }

    private mutating func authenticate(_ argument: [UInt8]?) -> [FrontEndAction] {
        guard let argument else {
            // RFC 1734's listing form, still used by some clients.
            let list = options.advertisedMechanisms.map { $0.rawValue + "\r\n" }.joined()
            return [.send(Array("+OK\r\n\(list).\r\n".utf8))]
        }
        let words = argument.split(separator: 32, omittingEmptySubsequences: false)
        guard words.count == 1 || words.count == 2, !words[0].isEmpty else {
            return error("-ERR AUTH expects a mechanism and an optional initial response.")
        }
        guard let mechanism = options.mechanism(named: String(decoding: words[0], as: UTF8.self)) else {
            return [.send(reply("-ERR Unsupported authentication mechanism."))]
        }
        guard options.loginAllowed else {
            return [.send(reply("-ERR [AUTH] Authentication is disabled; use STLS first."))]
        }
        var exchange = SASLServerExchange(mechanism: mechanism)
        if words.count == 2 {
            return saslResponse(exchange, SASLServerExchange.decodeInitialResponse(Array(words[1])), isInitial: true)
        }
        let step = exchange.start(initialResponse: nil)
        return saslStep(exchange, step)
    }

    private mutating func saslResponse(
        _ exchange: SASLServerExchange, _ response: SASLServerExchange.Response, isInitial: Bool = false
    ) -> [FrontEndAction] {
        state = .ready
        var exchange = exchange
        switch response {
        case .cancelled where !isInitial:
            return [.send(reply("-ERR Authentication cancelled."))]
        case .cancelled, .invalidBase64:
            return error("-ERR Invalid base64 data.")
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
            return [.send(reply("+ " + SASL.base64Encode(challenge)))]
        case .malformed(let reason):
            state = .ready
            return error("-ERR [AUTH] \(reason).")
        case .done(let request):
            state = .loggingIn
            return [.login(request)]
        }
    }
}
