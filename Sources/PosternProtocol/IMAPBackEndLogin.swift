/// Logs in to an IMAP backend on the client's behalf: greeting, optional STARTTLS, CAPABILITY, then
/// `AUTHENTICATE PLAIN` when the server offers it, else `LOGIN` with literals.
public struct IMAPBackEndLogin: BackEndLoginMachine, Sendable {
    private enum State: Sendable {
        case greeting
        case capability
        case starttls
        /// STARTTLS accepted: nothing the backend sends is interpreted until the handshake finished.
        case awaitingTLS
        case authenticatePlain(sentResponse: Bool)
        case login(pendingLiterals: [[UInt8]])
        case done
    }

    private let credentials: Credentials
    private let useStartTLS: Bool
    private let allowPlaintextFallback: Bool
    private let maxLine: Int
    private var state: State = .greeting
    private var buffer: [UInt8] = []
    private var capabilities: Set<String> = []
    private var tlsDone = false
    private var tagCounter = 0

    /// `useStartTLS`: upgrade the connection before logging in; fail if the backend cannot, unless
    /// `allowPlaintextFallback` (for broken backends; reported with a `.notice` every time).
    public init(credentials: Credentials, useStartTLS: Bool, allowPlaintextFallback: Bool = false, maxLine: Int = 65536)
    {
        self.credentials = credentials
        self.useStartTLS = useStartTLS
        self.allowPlaintextFallback = allowPlaintextFallback
        self.maxLine = maxLine
    }

    /// Builds the machine from the options every back-end login shares.
    public init(credentials: Credentials, options: BackEndOptions) {
        self.init(
            credentials: credentials, useStartTLS: options.useStartTLS,
            allowPlaintextFallback: options.allowPlaintextFallback, maxLine: options.maxLine)
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
        buffer.append(contentsOf: bytes)
        var actions: [BackEndAction] = []
        while true {
            // A line over the bound fails the same way whether or not its LF arrived yet.
            let lf = buffer.firstIndex(of: 10)
            guard (lf ?? buffer.count) <= maxLine else {
                actions += fail("Backend sent an overlong line.")
                break
            }
            guard let line = takeLine() else { break }
            actions += handle(line)
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

    private mutating func takeLine() -> String? {
        guard let lf = buffer.firstIndex(of: 10) else { return nil }
        var line = Array(buffer[..<lf])
        if line.last == 13 { line.removeLast() }
        buffer.removeFirst(lf + 1)
        return String(decoding: line, as: UTF8.self)
    }

    private mutating func fail(_ reason: String) -> [BackEndAction] {
        state = .done
        return [.failed(.unavailable(reason: reason))]
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
                return []
            }
            guard let status = taggedStatus(line) else { return [] }
            guard status.ok else { return fail("Backend refused CAPABILITY.") }
            return afterCapabilities()
        case .starttls:
            guard let status = taggedStatus(line) else { return [] }
            guard status.ok else { return fail("Backend refused STARTTLS.") }
            // Whatever followed the OK arrived before encryption: never interpret it.
            buffer.removeAll()
            state = .awaitingTLS
            return [.startTLS]
        case .authenticatePlain(let sentResponse):
            if line.hasPrefix("+") {
                guard !sentResponse else { return fail("Backend asked for more SASL data.") }
                state = .authenticatePlain(sentResponse: true)
                return [.send(Array("\(SASL.base64Encode(SASL.encodePlain(credentials)))\r\n".utf8))]
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
        var notices: [BackEndAction] = []
        if useStartTLS && !tlsDone {
            if capabilities.contains("STARTTLS") {
                state = .starttls
                return [.send(Array("\(nextTag()) STARTTLS\r\n".utf8))]
            }
            guard allowPlaintextFallback else {
                return fail("Backend does not offer STARTTLS; refusing to log in without TLS.")
            }
            notices.append(
                .notice("Backend does not offer STARTTLS; logging in WITHOUT TLS (allow_plaintext_fallback)."))
        }
        return notices + loginCommand()
    }

    /// AUTHENTICATE PLAIN when offered, else LOGIN with literals.
    private mutating func loginCommand() -> [BackEndAction] {
        let plain = SASL.base64Encode(SASL.encodePlain(credentials))
        if capabilities.contains("AUTH=PLAIN") {
            if capabilities.contains("SASL-IR") {
                state = .authenticatePlain(sentResponse: true)
                return [.send(Array("\(nextTag()) AUTHENTICATE PLAIN \(plain)\r\n".utf8))]
            }
            state = .authenticatePlain(sentResponse: false)
            return [.send(Array("\(nextTag()) AUTHENTICATE PLAIN\r\n".utf8))]
        }
        guard !capabilities.contains("LOGINDISABLED") else {
            return fail("Backend allows neither LOGIN nor AUTHENTICATE PLAIN.")
        }
        if credentials.authzid != nil {
            return fail("Backend does not offer AUTHENTICATE PLAIN for an authorization identity.")
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
        guard let status = taggedStatus(line) else { return [] }
        state = .done
        if status.ok {
            let leftover = buffer
            buffer = []
            return [.succeeded(text: status.text, leftover: leftover)]
        }
        return [.failed(.rejected(text: status.text))]
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
