/// Logs in to a POP3 backend on the client's behalf: greeting, CAPA, optional STLS (then CAPA again),
/// then `AUTH PLAIN` when the server lists it under SASL, else `USER`/`PASS`; a bearer token goes with
/// `AUTH` and the client's own mechanism, or not at all.
public struct POP3BackEndLogin: BackEndLoginMachine, Sendable {
    private enum State: Sendable {
        case greeting
        /// CAPA sent; `listing` once its `+OK` arrived.
        case capa(listing: Bool)
        case stls
        /// STLS accepted: nothing the backend sends is interpreted until the handshake finished.
        case awaitingTLS
        /// USER sent; the password waits for its `+OK`.
        case user(password: String)
        case pass
        /// `XCLIENT` with the forwarded client sent; its answer leads to the login.
        case xclient
        case authenticate(BackEndSASL)
        case done
    }

    /// RFC 5034 §4: an AUTH command with its initial response must fit in 255 octets.
    static let maxCommandLine = 255

    /// Until the login command is built.
    private var credentials: Credentials?
    private let options: BackEndOptions
    private var state: State = .greeting
    private var buffer: BackEndLineBuffer
    /// CAPA lines, upper-cased.
    private var capabilities: Set<String> = []
    /// The mechanisms of the SASL capability.
    private var mechanisms: Set<String> = []
    private var tlsDone = false
    private var capaLines: CapabilityLineCounter
    /// The greeting (`+OK [XCLIENT] ...`, Dovecot) or CAPA offered XCLIENT.
    private var xclientOffered = false

    public init(credentials: Credentials, options: BackEndOptions) {
        self.credentials = credentials
        self.options = options
        self.buffer = BackEndLineBuffer(maxLine: options.maxLine)
        self.capaLines = CapabilityLineCounter(options: options)
    }

    public var holdsCredentials: Bool {
        switch state {
        case .user: return true
        case .authenticate(let exchange): return exchange.holdsResponses
        case .greeting, .capa, .stls, .awaitingTLS, .pass, .xclient, .done: return credentials != nil
        }
    }

    public mutating func receive(_ bytes: [UInt8]) -> [BackEndAction] {
        switch state {
        case .awaitingTLS, .done: return []
        default: break
        }
        buffer.append(bytes)
        var actions: [BackEndAction] = []
        while true {
            guard !buffer.overlong else { return actions + fail("Backend sent an overlong line.") }
            guard let line = buffer.takeLine() else { return actions }
            actions += handle(String(decoding: line, as: UTF8.self))
            switch state {
            case .done, .awaitingTLS: return actions
            default: continue
            }
        }
    }

    public mutating func tlsEstablished() -> [BackEndAction] {
        guard case .awaitingTLS = state else { return [] }
        tlsDone = true
        // What was learnt before TLS may have been forged (RFC 2595 §4): ask again.
        capabilities = []
        mechanisms = []
        state = .capa(listing: false)
        return [send("CAPA")]
    }

    private func send(_ line: String) -> BackEndAction { .send(Array("\(line)\r\n".utf8)) }

    private mutating func fail(_ reason: String) -> [BackEndAction] {
        state = .done
        credentials = nil
        return [.failed(.unavailable(reason: reason))]
    }

    private static func isOK(_ line: String) -> Bool { line.uppercased().hasPrefix("+OK") }
    private static func isError(_ line: String) -> Bool { line.uppercased().hasPrefix("-ERR") }
    private static func isContinuation(_ line: String) -> Bool { line == "+" || line.hasPrefix("+ ") }

    private mutating func handle(_ line: String) -> [BackEndAction] {
        switch state {
        case .greeting:
            if Self.isOK(line) {
                xclientOffered = line.dropFirst(3).drop(while: { $0 == " " }).uppercased().hasPrefix("[XCLIENT]")
                state = .capa(listing: false)
                return [send("CAPA")]
            }
            return fail(Self.isError(line) ? "Backend refused the connection." : "Backend sent an unexpected greeting.")
        case .capa(listing: false):
            if Self.isOK(line) {
                state = .capa(listing: true)
                return []
            }
            // A server without CAPA (RFC 1939 only) offers USER/PASS and nothing else.
            guard Self.isError(line) else { return fail("Backend sent an unexpected reply to CAPA.") }
            return afterCapabilities()
        case .capa(listing: true):
            if line == "." { return afterCapabilities() }
            if capaLines.tooMany() { return fail(CapabilityLineCounter.reason) }
            let entry = (line.hasPrefix(".") ? String(line.dropFirst()) : line).uppercased()
            capabilities.insert(entry)
            if entry == "XCLIENT" || entry.hasPrefix("XCLIENT ") { xclientOffered = true }
            if entry.hasPrefix("SASL ") { mechanisms = Set(entry.dropFirst(5).split(separator: " ").map(String.init)) }
            return []
        case .stls:
            guard Self.isOK(line) else { return fail("Backend refused STLS.") }
            // Whatever followed the +OK arrived before encryption: never interpret it.
            _ = buffer.takeAll()
            state = .awaitingTLS
            return [.startTLS]
        case .user(let password):
            if Self.isOK(line) {
                state = .pass
                return [send("PASS \(password)")]
            }
            return finalResponse(line)
        case .pass:
            return finalResponse(line)
        case .xclient:
            guard Self.isOK(line) else {
                guard Self.isError(line) else { return fail("Backend sent an unexpected reply to XCLIENT.") }
                return [.notice("Backend refused XCLIENT: \(line)")] + loginCommand()
            }
            return loginCommand()
        case .authenticate(var exchange):
            if Self.isContinuation(line) {
                guard let answer = exchange.answer() else { return fail("Backend asked for more SASL data.") }
                state = .authenticate(exchange)
                return [send(SASL.base64Encode(answer))]
            }
            return finalResponse(line)
        case .awaitingTLS, .done:
            return []
        }
    }

    private mutating func afterCapabilities() -> [BackEndAction] {
        switch StartTLSDecision.decide(options, offered: capabilities.contains("STLS"), tlsDone: tlsDone) {
        case .upgrade:
            state = .stls
            return [send("STLS")]
        case .refuse(let reason):
            return fail(reason)
        case .proceed(let notices):
            return notices + xclientOrLogin()
        }
    }

    /// With a forwarded client, `XCLIENT` first (when the backend offers it), else the login.
    private mutating func xclientOrLogin() -> [BackEndAction] {
        guard let forwarded = options.forwardedClient else { return loginCommand() }
        guard xclientOffered else {
            return [.notice("Backend does not offer XCLIENT; the client's address is not forwarded.")] + loginCommand()
        }
        state = .xclient
        return [.send(forwarded.xclientCommand)]
    }

    /// USER and PASS are lines: a name or password with a line break or NUL cannot go in them.
    private static func fitsInLine(_ text: String) -> Bool {
        !text.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 })
    }

    private mutating func loginCommand() -> [BackEndAction] {
        guard let credentials else { return fail("No credentials to log in with.") }
        // From here on only the command (or what the state keeps for the next one) carries them.
        self.credentials = nil
        let passwordCommand = Self.fitsInLine(credentials.user) && Self.fitsInLine(credentials.password)
        switch BackEndAuthPlan.choose(credentials, offered: mechanisms, passwordCommand: passwordCommand) {
        case .unsupported(let reason):
            return fail(reason)
        case .passwordCommand:
            state = .user(password: credentials.password)
            return [send("USER \(credentials.user)")]
        case .sasl(var exchange):
            let prefix = "AUTH \(exchange.name)"
            let room = Self.maxCommandLine - prefix.utf8.count - 3
            if let initial = exchange.takeInitialResponse(limit: room) {
                state = .authenticate(exchange)
                return [send("\(prefix) \(SASL.base64Encode(initial))")]
            }
            state = .authenticate(exchange)
            return [send(prefix)]
        }
    }

    private mutating func finalResponse(_ line: String) -> [BackEndAction] {
        if Self.isOK(line) {
            state = .done
            return [.succeeded(text: clientVisibleLine(line), leftover: buffer.takeAll())]
        }
        if Self.isError(line) {
            state = .done
            return [.failed(.rejected(text: clientVisibleLine(line)))]
        }
        return fail("Backend sent an unexpected reply to the login.")
    }
}
