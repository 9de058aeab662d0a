/// The one pre-login state machine behind the IMAP, POP3 and ManageSieve front ends: the dialogue, its
/// bounds and the texts they share, with the protocol's reader, commands and reply forms from `Dialect`.
///
/// Bounds: failed logins (`maxLoginAttempts`), invalid commands (`maxBadCommands`), commands before login
/// that are not a login (`maxPreauthCommands`), a line dropped over 2 × `maxLine` bytes, and at most
/// `maxCommandsPerCall` inputs handled per call (then `.yield`, and `resume()` goes on). The replies of
/// one call leave as one `.send`.
struct FrontEndEngine<Dialect: FrontEndDialect>: Sendable {
    enum Phase: Sendable {
        case ready
        /// Waiting for the client's SASL response to a challenge.
        case authenticating(tag: String?, exchange: SASLServerExchange)
        /// STARTTLS accepted: nothing the client sends is interpreted until the handshake finished.
        case startingTLS
        /// The session is logging in; bytes are buffered.
        case loggingIn(tag: String?)
        case relaying
        case closed(FrontEndCloseReason)

        /// A command that leaves the machine in this phase counts against the budget before login: it
        /// neither started a login nor ended the connection.
        var beforeLogin: Bool {
            switch self {
            case .ready, .authenticating, .startingTLS: return true
            case .loggingIn, .relaying, .closed: return false
            }
        }

        /// Commands (or SASL responses) are read in this phase.
        var readsInput: Bool {
            switch self {
            case .ready, .authenticating: return true
            case .startingTLS, .loggingIn, .relaying, .closed: return false
            }
        }
    }

    /// An input read, with what the phase made of it.
    enum Input: Sendable {
        case command(FrontEndInput<Dialect.Command>)
        case response(FrontEndInput<[UInt8]>, tag: String?, exchange: SASLServerExchange)
    }

    private(set) var options: FrontEndOptions
    private(set) var dialect: Dialect
    var phase: Phase = .ready
    private var counter: AttemptCounter
    /// An input read past the per-call cap; the next call handles it first.
    private var lookahead: Input?

    init(options: FrontEndOptions, dialect: Dialect) {
        self.options = options
        self.dialect = dialect
        self.counter = AttemptCounter(options: options)
    }

    var wording: FrontEndWording { Dialect.wording }

    var closeReason: FrontEndCloseReason? {
        if case .closed(let reason) = phase { return reason }
        return nil
    }

    func greeting() -> [UInt8] { dialect.greeting(options: options) }

    /// The farewell for a reason (without its final period).
    func farewell(_ reason: String) -> [UInt8] { Dialect.farewell(reason + ".") }

    mutating func receive(_ bytes: [UInt8]) -> [FrontEndAction] {
        switch phase {
        case .closed, .relaying, .startingTLS: return []
        case .ready, .authenticating, .loggingIn: break
        }
        dialect.reader.append(bytes)
        return continuing()
    }

    mutating func resume() -> [FrontEndAction] { continuing() }

    mutating func tlsEstablished() -> [FrontEndAction] {
        guard case .startingTLS = phase else { return [] }
        options.tlsActive = true
        phase = .ready
        return continuing(after: [.send(dialect.afterTLS(options: options))])
    }

    mutating func loginFinished(_ outcome: LoginOutcome) -> [FrontEndAction] {
        guard case .loggingIn(let tag) = phase else { return [] }
        let response: [UInt8]
        switch outcome {
        case .success(let text):
            phase = .relaying
            return [.send(Dialect.tagged(tag, text)), .relay(pipelined: dialect.reader.takeBuffered())]
        case .rejected(let text):
            response = Dialect.tagged(tag, text)
        case .unknownUser:
            response = Dialect.reply(.no, tag: tag, code: wording.authenticationFailed, "Authentication failed.")
        case .unavailable(let reason):
            response = Dialect.reply(.no, tag: tag, code: wording.unavailable, reason)
        }
        if counter.loginFailed() { return close(.tooManyLoginFailures, "Too many failed logins", after: response) }
        phase = .ready
        return continuing(after: [.send(response)])
    }

    /// `first`, then what the buffered input leads to, with adjacent sends joined.
    private mutating func continuing(after first: [FrontEndAction] = []) -> [FrontEndAction] {
        var output = FrontEndOutput()
        output.add(first)
        var handled = 0
        while phase.readsInput {
            // An overlong line was refused as an invalid command when it was found; once more than
            // 2 × maxLine bytes of it were dropped, the client is not worth reading any more.
            if lookahead == nil, lineFarTooLong {
                output.add(close(.lineTooLong, wording.lineTooLong))
                break
            }
            guard let input = nextInput() else { break }
            guard handled < max(1, options.maxCommandsPerCall) else {
                lookahead = input
                output.add([.yield])
                break
            }
            handled += 1
            output.add(handle(input))
        }
        return output.actions
    }

    /// The reader dropped more than 2 × `maxLine` bytes of the current line.
    private var lineFarTooLong: Bool { dialect.reader.discardedBytes > 2 * options.maxLine }

    private mutating func nextInput() -> Input? {
        if let input = lookahead {
            lookahead = nil
            return input
        }
        if case .authenticating(let tag, let exchange) = phase {
            return dialect.nextResponse().map { .response($0, tag: tag, exchange: exchange) }
        }
        return dialect.nextCommand().map(Input.command)
    }

    private mutating func handle(_ input: Input) -> [FrontEndAction] {
        switch input {
        case .command(.item(let command)):
            let verdict = dialect.handle(command, options: options)
            return countedBeforeLogin(execute(verdict, tag: dialect.tag(of: command)))
        case .command(.send(let bytes)), .response(.send(let bytes), _, _):
            return [.send(bytes)]
        case .command(.bad(let tag, let reason)):
            return countedBeforeLogin(bad(tag, reason))
        case .command(.tooLong(let tag)):
            return countedBeforeLogin(bad(tag, wording.lineTooLong))
        case .command(.unrecoverable(let tag, let reason)), .response(.unrecoverable(let tag, let reason), _, _):
            return close(.unrecoverable, reason, after: Dialect.reply(.bad, tag: tag, code: nil, reason + "."))
        case .response(.item(let line), let tag, let exchange):
            return saslResponse(tag, exchange, SASLServerExchange.decodeResponse(line))
        case .response(.bad(_, let reason), let tag, _):
            phase = .ready
            return bad(tag, reason)
        case .response(.tooLong, let tag, _):
            phase = .ready
            return bad(tag, wording.saslResponseTooLong)
        }
    }

    /// Counts a command against the budget before login, unless it started a login or ended the
    /// connection. The command over the budget gets the farewell instead of its reply.
    private mutating func countedBeforeLogin(_ actions: [FrontEndAction]) -> [FrontEndAction] {
        guard phase.beforeLogin, counter.preauthCommand() else { return actions }
        return close(.preauthBudgetExceeded, "Too many commands before login")
    }

    private mutating func execute(_ verdict: FrontEndVerdict, tag: String?) -> [FrontEndAction] {
        switch verdict {
        case .reply(let bytes):
            return [.send(bytes)]
        case .bad(let reason):
            return bad(tag, reason)
        case .refuse(.plaintextLoginNeedsTLS):
            let text = "Plaintext login is disabled; use \(wording.startTLSCommand) first."
            return [.send(Dialect.reply(.no, tag: tag, code: wording.encryptionNeeded, text))]
        case .refuse(.passwordLoginDisabled(let command)):
            return [.send(Dialect.reply(.no, tag: tag, code: wording.cannot, "\(command) is disabled on this port."))]
        case .startTLS(let hasArguments):
            return startTLS(tag, hasArguments: hasArguments)
        case .login(let request):
            phase = .loggingIn(tag: tag)
            return [.login(request)]
        case .authenticate(let mechanism, let initial):
            return authenticate(tag, mechanism: mechanism, initial: initial)
        case .logout(let bytes):
            phase = .closed(.logout)
            return [.send(bytes), .close]
        }
    }

    private mutating func startTLS(_ tag: String?, hasArguments: Bool) -> [FrontEndAction] {
        let command = wording.startTLSCommand
        guard !hasArguments else { return bad(tag, "\(command) takes no arguments") }
        guard options.starttlsOffered, !options.tlsActive else {
            return bad(tag, options.tlsActive ? "TLS is already active" : "\(command) is not available")
        }
        // Anything the client pipelined after STARTTLS arrived in plaintext: drop it (RFC 9051 §6.2.1,
        // RFC 2595 §4, RFC 5804 §2.2).
        _ = dialect.reader.takeBuffered()
        dialect.discardPlaintextState()
        phase = .startingTLS
        return [.send(Dialect.reply(.ok, tag: tag, code: nil, "Begin TLS negotiation now.")), .startTLS]
    }

    // MARK: Refusals and closes

    /// Ends the connection: the refusal that caused it, if any, then the farewell (unless the protocol lets
    /// the refusal be the last word).
    mutating func close(_ reason: FrontEndCloseReason, _ farewell: String, after refusal: [UInt8]? = nil)
        -> [FrontEndAction]
    {
        phase = .closed(reason)
        var bytes = refusal ?? []
        if refusal == nil || wording.farewellAfterRefusal { bytes += self.farewell(farewell) }
        return [.send(bytes), .close]
    }

    /// Sends the refusal of an invalid command; too many of them close the connection.
    mutating func invalid(_ refusal: [UInt8]) -> [FrontEndAction] {
        if counter.badCommand() { return close(.tooManyBadCommands, "Too many invalid commands", after: refusal) }
        return [.send(refusal)]
    }

    /// The protocol's BAD for an invalid command, counted.
    mutating func bad(_ tag: String?, _ reason: String) -> [FrontEndAction] {
        invalid(Dialect.reply(.bad, tag: tag, code: nil, reason + "."))
    }
}
