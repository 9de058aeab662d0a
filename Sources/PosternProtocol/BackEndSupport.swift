/// How a back-end login machine logs in with the client's credentials, given what the backend offers.
enum BackEndAuthPlan: Sendable, Equatable {
    /// A SASL exchange.
    case sasl(BackEndSASL)
    /// The protocol's own user and password command (IMAP LOGIN, POP3 USER/PASS).
    case passwordCommand
    /// The backend cannot take these credentials; the text (safe to show a client) says why.
    case unsupported(String)

    /// The plan for `credentials` when the backend offers the SASL mechanisms `offered` (upper-case names)
    /// and, if `passwordCommand`, its own password command.
    ///
    /// Tokens go with the client's mechanism or not at all; passwords go with PLAIN when offered (it
    /// carries an authorization identity), else with the password command, else with SASL LOGIN.
    static func choose(_ credentials: Credentials, offered: Set<String>, passwordCommand: Bool) -> BackEndAuthPlan {
        if let passThrough = credentials.passThrough {
            let name = passThrough.mechanism.rawValue
            guard offered.contains(name) else { return .unsupported("The mailbox server does not offer \(name).") }
            return .sasl(BackEndSASL(mechanism: passThrough.mechanism, responses: [passThrough.response]))
        }
        if offered.contains("PLAIN") {
            return .sasl(BackEndSASL(mechanism: .plain, responses: [SASL.encodePlain(credentials)]))
        }
        if credentials.authzid != nil {
            return .unsupported("The mailbox server does not offer PLAIN for an authorization identity.")
        }
        if passwordCommand { return .passwordCommand }
        if offered.contains("LOGIN") {
            return .sasl(
                BackEndSASL(
                    mechanism: .login, responses: [Array(credentials.user.utf8), Array(credentials.password.utf8)]))
        }
        return .unsupported("The mailbox server offers no login method Postern can use.")
    }
}

/// The client side of one SASL exchange with a backend: the responses to send, in order.
struct BackEndSASL: Sendable, Equatable {
    let mechanism: SASLMechanism
    private var responses: [[UInt8]]
    private var errorAnswered = false

    init(mechanism: SASLMechanism, responses: [[UInt8]]) {
        self.mechanism = mechanism
        self.responses = responses
    }

    /// Responses (derived from the client's credentials) not yet sent.
    var holdsResponses: Bool { !responses.isEmpty }

    /// The mechanism's name as sent in the command.
    var name: String { mechanism.rawValue }

    /// The response to send with the command (SASL-IR, POP3 AUTH, ManageSieve AUTHENTICATE), if the
    /// mechanism has a client-first message and it fits in `limit` bytes of base64.
    mutating func takeInitialResponse(limit: Int = Int.max) -> [UInt8]? {
        guard mechanism != .login, let first = responses.first, (first.count + 2) / 3 * 4 <= limit else {
            return nil
        }
        responses.removeFirst()
        return first
    }

    /// The answer to a server challenge, or nil when the server asks for more than the mechanism has.
    ///
    /// A token mechanism's server reports an error as a challenge and waits for a dummy response
    /// (empty for XOAUTH2, `^A` for OAUTHBEARER, RFC 7628 §3.2.3) before its final failure.
    mutating func answer() -> [UInt8]? {
        if !responses.isEmpty { return responses.removeFirst() }
        guard mechanism.isPassThrough, !errorAnswered else { return nil }
        errorAnswered = true
        return mechanism == .oauthbearer ? [1] : []
    }
}

/// Counts the lines a backend sends before it answers the login (capabilities, untagged data), against
/// `BackEndOptions.maxCapabilityLines`.
struct CapabilityLineCounter: Sendable {
    let limit: Int
    private var lines = 0

    init(options: BackEndOptions) { limit = options.maxCapabilityLines }

    /// What the login fails with when there are too many.
    static let reason = "Backend sent too many capability lines."

    /// Records one line; true when it is one too many.
    mutating func tooMany() -> Bool {
        lines += 1
        return lines > limit
    }
}

/// Whether a back-end login upgrades to TLS before logging in, as `BackEndOptions` ask.
enum StartTLSDecision: Sendable, Equatable {
    /// Send the protocol's STARTTLS command.
    case upgrade
    /// Log in now; the actions (a warning, when falling back to plaintext) go first.
    case proceed([BackEndAction])
    /// Refuse to log in: STARTTLS was asked for and the backend does not offer it.
    case refuse(String)

    /// `offered`: the backend advertises STARTTLS (STLS); `tlsDone`: the connection is already upgraded.
    static func decide(_ options: BackEndOptions, offered: Bool, tlsDone: Bool) -> StartTLSDecision {
        guard options.useStartTLS, !tlsDone else { return .proceed([]) }
        if offered { return .upgrade }
        guard options.allowPlaintextFallback else {
            return .refuse("Backend does not offer STARTTLS; refusing to log in without TLS.")
        }
        return .proceed([
            .notice("Backend does not offer STARTTLS; logging in WITHOUT TLS (allow_plaintext_fallback).")
        ])
    }
}

/// A backend's final line as the client is shown it: a bare CR, a NUL or another control character (a tab
/// apart) becomes a space, so the one line the backend sent stays one line for the client.
func clientVisibleLine(_ text: String) -> String {
    guard text.unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7F }) else {
        return text
    }
    return String(
        String.UnicodeScalarView(
            text.unicodeScalars.map { ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7F ? " " : $0 }))
}
