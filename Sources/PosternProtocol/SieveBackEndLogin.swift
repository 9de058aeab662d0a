/// Logs in to a ManageSieve backend on the client's behalf (RFC 5804): reads the capability greeting,
/// STARTTLS when configured (the server then sends its capabilities again), then `AUTHENTICATE "PLAIN"`
/// with the initial response; a bearer token goes with the client's own mechanism, or not at all.
public struct SieveBackEndLogin: BackEndLoginMachine, Sendable {
    private enum State: Sendable {
        /// Reading a capability block (the greeting, or the one after TLS).
        case capabilities
        case starttls
        /// STARTTLS accepted: nothing the backend sends is interpreted until the handshake finished.
        case awaitingTLS
        /// `XCLIENT` with the forwarded client sent; its answer leads to the login.
        case xclient
        case authenticate(BackEndSASL)
        case done
    }

    /// Until the login command is built.
    private var credentials: Credentials?
    private let options: BackEndOptions
    private var state: State = .capabilities
    private var buffer: BackEndLineBuffer
    /// Capability names (upper-cased) with their values.
    private var capabilities: [String: String] = [:]
    private var tlsDone = false
    /// A response that carries literals, assembled so far.
    private var partial: [UInt8] = []
    private var literalNeeded: Int?
    private var capabilityLines: CapabilityLineCounter

    public init(credentials: Credentials, options: BackEndOptions) {
        self.credentials = credentials
        self.options = options
        self.buffer = BackEndLineBuffer(maxLine: options.maxLine)
        self.capabilityLines = CapabilityLineCounter(options: options)
    }

    public var holdsCredentials: Bool {
        if case .authenticate(let exchange) = state { return exchange.holdsResponses }
        return credentials != nil
    }

    public mutating func receive(_ bytes: [UInt8]) -> [BackEndAction] {
        switch state {
        case .awaitingTLS, .done: return []
        default: break
        }
        buffer.append(bytes)
        var actions: [BackEndAction] = []
        while true {
            let response: [UInt8]
            switch nextResponse() {
            case .failed(let reason): return actions + fail(reason)
            case .needMore: return actions
            case .response(let complete): response = complete
            }
            actions += handle(response)
            switch state {
            case .done, .awaitingTLS: return actions
            default: continue
            }
        }
    }

    public mutating func tlsEstablished() -> [BackEndAction] {
        guard case .awaitingTLS = state else { return [] }
        tlsDone = true
        // The server sends its capabilities again (RFC 5804 §2.2); those from before TLS are forgotten.
        capabilities = [:]
        state = .capabilities
        return []
    }

    private mutating func fail(_ reason: String) -> [BackEndAction] {
        state = .done
        credentials = nil
        return [.failed(.unavailable(reason: reason))]
    }

    private enum Assembly {
        case response([UInt8])
        case needMore
        case failed(String)
    }

    /// The next complete response: a line, with any literals it announces and the lines after them.
    private mutating func nextResponse() -> Assembly {
        while true {
            if let needed = literalNeeded {
                guard let data = buffer.take(needed) else { return .needMore }
                partial += data
                literalNeeded = nil
            }
            guard !buffer.overlong else { return .failed("Backend sent an overlong line.") }
            guard let line = buffer.takeLine() else { return .needMore }
            partial += line
            guard partial.count <= 4 * options.maxLine else { return .failed("Backend sent an overlong response.") }
            if let literal = IMAPCommandReader.literalHeader(line[...]) {
                guard literal.size <= options.maxLine else { return .failed("Backend sent an overlong literal.") }
                partial += [13, 10]
                literalNeeded = literal.size
                continue
            }
            defer { partial = [] }
            return .response(partial)
        }
    }

    /// `OK`, `NO` or `BYE` when the response is a status response.
    private static func status(_ response: [UInt8]) -> String? {
        let word = String(decoding: response.prefix { $0 != 32 && $0 != 40 }, as: UTF8.self).uppercased()
        return ["OK", "NO", "BYE"].contains(word) ? word : nil
    }

    private mutating func handle(_ response: [UInt8]) -> [BackEndAction] {
        let text = String(decoding: response, as: UTF8.self)
        switch state {
        case .capabilities:
            switch Self.status(response) {
            case "OK"?: return afterCapabilities()
            case nil:
                if capabilityLines.tooMany() { return fail(CapabilityLineCounter.reason) }
                if let (name, value) = Self.capability(response) { capabilities[name] = value }
                return []
            default: return fail("Backend refused the connection.")
            }
        case .starttls:
            guard Self.status(response) == "OK" else { return fail("Backend refused STARTTLS.") }
            // Whatever followed the OK arrived before encryption: never interpret it.
            _ = buffer.takeAll()
            state = .awaitingTLS
            return [.startTLS]
        case .xclient:
            switch Self.status(response) {
            case "OK"?: return loginCommand()
            case "NO"?: return [.notice("Backend refused XCLIENT: \(text)")] + loginCommand()
            default: return fail("Backend sent an unexpected reply to XCLIENT.")
            }
        case .authenticate(var exchange):
            switch Self.status(response) {
            case "OK"?:
                state = .done
                return [.succeeded(text: text, leftover: buffer.takeAll())]
            case "NO"?:
                state = .done
                return [.failed(.rejected(text: text))]
            case "BYE"?:
                return fail("Backend ended the connection during the login.")
            default:
                // A challenge (a string); answered with a string.
                guard let answer = exchange.answer() else { return fail("Backend asked for more SASL data.") }
                state = .authenticate(exchange)
                return [.send(Array("\"\(SASL.base64Encode(answer))\"\r\n".utf8))]
            }
        case .awaitingTLS, .done:
            return []
        }
    }

    /// A capability line: `"NAME"` or `"NAME" "value"`.
    private static func capability(_ response: [UInt8]) -> (String, String)? {
        var tokenizer = IMAPTokenizer(bytes: response, segments: [0..<response.count])
        guard case .success(.string(let name)) = tokenizer.argument(depth: 0) else { return nil }
        var value: [UInt8] = []
        if tokenizer.space(), case .success(.string(let text)) = tokenizer.argument(depth: 0) { value = text }
        return (String(decoding: name, as: UTF8.self).uppercased(), String(decoding: value, as: UTF8.self))
    }

    private mutating func afterCapabilities() -> [BackEndAction] {
        switch StartTLSDecision.decide(options, offered: capabilities["STARTTLS"] != nil, tlsDone: tlsDone) {
        case .upgrade:
            state = .starttls
            return [.send(Array("STARTTLS\r\n".utf8))]
        case .refuse(let reason):
            return fail(reason)
        case .proceed(let notices):
            return notices + xclientOrLogin()
        }
    }

    /// With a forwarded client, `XCLIENT` first (when the capabilities list it), else the login.
    private mutating func xclientOrLogin() -> [BackEndAction] {
        guard let forwarded = options.forwardedClient else { return loginCommand() }
        guard capabilities["XCLIENT"] != nil else {
            return [.notice("Backend does not offer XCLIENT; the client's address is not forwarded.")] + loginCommand()
        }
        state = .xclient
        return [.send(forwarded.xclientCommand)]
    }

    private mutating func loginCommand() -> [BackEndAction] {
        guard let credentials else { return fail("No credentials to log in with.") }
        // From here on only the command (or the exchange in the state) carries them.
        self.credentials = nil
        let offered = Set((capabilities["SASL"] ?? "").uppercased().split(separator: " ").map(String.init))
        switch BackEndAuthPlan.choose(credentials, offered: offered, passwordCommand: false) {
        case .unsupported(let reason):
            return fail(reason)
        case .passwordCommand:
            return fail("The mailbox server offers no login method Postern can use.")
        case .sasl(var exchange):
            var command = "AUTHENTICATE \"\(exchange.name)\""
            if let initial = exchange.takeInitialResponse() { command += " \"\(SASL.base64Encode(initial))\"" }
            state = .authenticate(exchange)
            return [.send(Array("\(command)\r\n".utf8))]
        }
    }
}
