/// Logs in to an IMAP backend on the client's behalf: greeting, optional STARTTLS, CAPABILITY, then
/// `AUTHENTICATE PLAIN` when the server offers it, else `LOGIN` with literals; a bearer token goes with
/// `AUTHENTICATE` and the client's own mechanism (XOAUTH2, OAUTHBEARER), or not at all.
public struct IMAPBackEndLogin: BackEndLoginMachine, Sendable {
    private enum State: Sendable {
        case greeting
        case capability
        case starttls
        /// STARTTLS accepted: nothing the backend sends is interpreted until the handshake finished.
        case awaitingTLS
        /// `ID` with the forwarded client sent; any tagged answer leads to the login.
        case identify
        case authenticate(BackEndSASL)
        case login(pendingLiterals: [[UInt8]])
        case done
    }

    /// Until the login command is built.
    private var credentials: Credentials?
    private let options: BackEndOptions
    private var state: State = .greeting
    private var buffer: BackEndLineBuffer
    private var capabilities: Set<String> = []
    private var tlsDone = false
    private var tagCounter = 0
    private var untaggedLines: CapabilityLineCounter

    /// `useStartTLS`: upgrade the connection before logging in; fail if the backend cannot, unless
    /// `allowPlaintextFallback` (for broken backends; reported with a `.notice` every time).
    public init(credentials: Credentials, useStartTLS: Bool, allowPlaintextFallback: Bool = false, maxLine: Int = 65536)
    {
        self.init(
            credentials: credentials,
            options: BackEndOptions(
                useStartTLS: useStartTLS, allowPlaintextFallback: allowPlaintextFallback, maxLine: maxLine))
    }

    /// Builds the machine from the options every back-end login shares.
    public init(credentials: Credentials, options: BackEndOptions) {
        self.credentials = credentials
        self.options = options
        self.buffer = BackEndLineBuffer(maxLine: options.maxLine)
        self.untaggedLines = CapabilityLineCounter(options: options)
    }

    private var tag: String { "P\(tagCounter)" }

    private mutating func nextTag() -> String {
        tagCounter += 1
        return tag
    }

    public mutating func receive(_ bytes: [UInt8]) -> [BackEndAction] {
        switch state {
        case .awaitingTLS, .done: return []
        default: break
        }
        buffer.append(bytes)
        var actions: [BackEndAction] = []
        while true {
            // A line over the bound fails the same way whether or not its LF arrived yet.
            guard !buffer.overlong else {
                actions += fail("Backend sent an overlong line.")
                break
            }
            guard let line = buffer.takeLine() else { break }
            actions += handle(String(decoding: line, as: UTF8.self))
            switch state {
            case .done, .awaitingTLS: return actions
            default: continue
            }
        }
        return actions
    }

    public mutating func tlsEstablished() -> [BackEndAction] {
        guard case .awaitingTLS = state else { return [] }
        tlsDone = true
        // Capabilities learnt before TLS may have been forged: forget them (RFC 9051 §6.2.1).
        capabilities = []
        state = .capability
        return [.send(Array("\(nextTag()) CAPABILITY\r\n".utf8))]
    }

    public var holdsCredentials: Bool {
        switch state {
        case .authenticate(let exchange): return exchange.holdsResponses
        case .login(let pendingLiterals): return !pendingLiterals.isEmpty
        case .greeting, .capability, .starttls, .awaitingTLS, .identify, .done: return credentials != nil
        }
    }

    private mutating func fail(_ reason: String) -> [BackEndAction] {
        state = .done
        credentials = nil
        return [.failed(.unavailable(reason: reason))]
    }

    /// A line other than the reply to our command (capabilities, untagged data): counted.
    private mutating func untagged() -> [BackEndAction] {
        untaggedLines.tooMany() ? fail(CapabilityLineCounter.reason) : []
    }

    private mutating func handle(_ line: String) -> [BackEndAction] {
        switch state {
        case .greeting:
            let upper = line.uppercased()
            if upper.hasPrefix("* OK") {
                if let caps = IMAPBackEndLogin.capabilityCode(line) {
                    capabilities = caps
                    return afterCapabilities()
                }
                state = .capability
                return [.send(Array("\(nextTag()) CAPABILITY\r\n".utf8))]
            }
            if upper.hasPrefix("* BYE") { return fail("Backend refused the connection.") }
            if upper.hasPrefix("* PREAUTH") { return fail("Backend greeted with PREAUTH.") }
            return fail("Backend sent an unexpected greeting.")
        case .capability:
            if line.uppercased().hasPrefix("* CAPABILITY ") {
                capabilities = Set(line.dropFirst(13).uppercased().split(separator: " ").map(String.init))
                return untagged()
            }
            guard let status = taggedStatus(line) else { return untagged() }
            guard status.ok else { return fail("Backend refused CAPABILITY.") }
            return afterCapabilities()
        case .starttls:
            guard let status = taggedStatus(line) else { return untagged() }
            guard status.ok else { return fail("Backend refused STARTTLS.") }
            // Whatever followed the OK arrived before encryption: never interpret it.
            _ = buffer.takeAll()
            state = .awaitingTLS
            return [.startTLS]
        case .identify:
            guard let status = taggedStatus(line) else { return untagged() }
            let notice: [BackEndAction] = status.ok ? [] : [.notice("Backend refused ID: \(status.text)")]
            return notice + loginCommand()
        case .authenticate(var exchange):
            if line.hasPrefix("+") {
                guard let answer = exchange.answer() else { return fail("Backend asked for more SASL data.") }
                state = .authenticate(exchange)
                return [.send(Array("\(SASL.base64Encode(answer))\r\n".utf8))]
            }
            return finalResponse(line)
        case .login(var pending):
            if line.hasPrefix("+") {
                guard !pending.isEmpty else { return fail("Backend sent an unexpected continuation.") }
                let next = pending.removeFirst()
                state = .login(pendingLiterals: pending)
                return [.send(next)]
            }
            return finalResponse(line)
        case .awaitingTLS, .done:
            return []
        }
    }

    private mutating func afterCapabilities() -> [BackEndAction] {
        switch StartTLSDecision.decide(options, offered: capabilities.contains("STARTTLS"), tlsDone: tlsDone) {
        case .upgrade:
            state = .starttls
            return [.send(Array("\(nextTag()) STARTTLS\r\n".utf8))]
        case .refuse(let reason):
            return fail(reason)
        case .proceed(let notices):
            return notices + identifyOrLogin()
        }
    }

    /// With a forwarded client, `ID` with its fields first (when the backend offers ID), else the login.
    private mutating func identifyOrLogin() -> [BackEndAction] {
        guard let forwarded = options.forwardedClient else { return loginCommand() }
        guard capabilities.contains("ID") else {
            return [.notice("Backend does not offer ID; the client's address is not forwarded.")] + loginCommand()
        }
        state = .identify
        return [.send(forwarded.imapIDCommand(tag: nextTag()))]
    }

    /// AUTHENTICATE with the plan's mechanism, or LOGIN with literals.
    private mutating func loginCommand() -> [BackEndAction] {
        guard let credentials else { return fail("No credentials to log in with.") }
        // From here on only the command (or the exchange in the state) carries them.
        self.credentials = nil
        let offered = Set(capabilities.filter { $0.hasPrefix("AUTH=") }.map { String($0.dropFirst(5)) })
        let plan = BackEndAuthPlan.choose(
            credentials, offered: offered, passwordCommand: !capabilities.contains("LOGINDISABLED"))
        switch plan {
        case .unsupported(let reason):
            return fail(reason)
        case .sasl(var exchange):
            let tag = nextTag()
            if capabilities.contains("SASL-IR"), let initial = exchange.takeInitialResponse() {
                state = .authenticate(exchange)
                return [.send(Array("\(tag) AUTHENTICATE \(exchange.name) \(SASL.base64Encode(initial))\r\n".utf8))]
            }
            state = .authenticate(exchange)
            return [.send(Array("\(tag) AUTHENTICATE \(exchange.name)\r\n".utf8))]
        case .passwordCommand:
            break
        }
        let literalPlus = capabilities.contains("LITERAL+") || capabilities.contains("LITERAL-")
        let user = Array(credentials.user.utf8)
        let password = Array(credentials.password.utf8)
        let tag = nextTag()
        if literalPlus {
            state = .login(pendingLiterals: [])
            return [
                .send(
                    Array("\(tag) LOGIN {\(user.count)+}\r\n".utf8) + user + Array(" {\(password.count)+}\r\n".utf8)
                        + password + [13, 10])
            ]
        }
        state = .login(pendingLiterals: [user + Array(" {\(password.count)}\r\n".utf8), password + [13, 10]])
        return [.send(Array("\(tag) LOGIN {\(user.count)}\r\n".utf8))]
    }

    private mutating func finalResponse(_ line: String) -> [BackEndAction] {
        guard let status = taggedStatus(line) else { return untagged() }
        state = .done
        if status.ok {
            let leftover = buffer.takeAll()
            return [.succeeded(text: clientVisibleLine(status.text), leftover: leftover)]
        }
        return [.failed(.rejected(text: clientVisibleLine(status.text)))]
    }

    /// The tagged response to our current command: whether it is OK and the text after the tag.
    private func taggedStatus(_ line: String) -> (ok: Bool, text: String)? {
        guard line.hasPrefix(tag + " ") else { return nil }
        let text = String(line.dropFirst(tag.count + 1))
        let upper = text.uppercased()
        if upper.hasPrefix("OK") { return (true, text) }
        if upper.hasPrefix("NO") { return (false, text) }
        return (false, "NO " + text.drop(while: { $0 != " " }).trimmingPrefix(" "))
    }

    /// The capability list inside a `[CAPABILITY ...]` response code.
    static func capabilityCode(_ line: String) -> Set<String>? {
        let upper = Array(line.uppercased().utf8)
        let marker = Array("[CAPABILITY ".utf8)
        guard upper.count > marker.count else { return nil }
        for start in 0...(upper.count - marker.count) where upper[start..<start + marker.count].elementsEqual(marker) {
            let rest = upper[(start + marker.count)...]
            guard let end = rest.firstIndex(of: UInt8(ascii: "]")) else { return nil }
            return Set(rest[..<end].split(separator: 32).map { String(decoding: $0, as: UTF8.self) })
        }
        return nil
    }
}
