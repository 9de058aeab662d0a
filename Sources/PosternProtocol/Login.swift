/// The credentials a client presented, as Postern will replay them to the backend.
///
/// Their description never shows the password or a token, so that they cannot reach a log by accident.
public struct Credentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The authentication identity (the login name; for a bearer token, the user named in it).
    public var user: String
    public var password: String
    /// The SASL authorization identity, when the client gave one.
    public var authzid: String?
    /// For XOAUTH2 and OAUTHBEARER: the client's SASL response, forwarded unchanged to the backend.
    public var passThrough: SASLPassThrough?

    public init(user: String, password: String, authzid: String? = nil) {
        self.user = user
        self.password = password
        self.authzid = authzid
    }

    /// Credentials that are a bearer token the backend validates; `user` is the name taken from it.
    public init(user: String, passThrough: SASLPassThrough) {
        self.user = user
        self.password = ""
        self.passThrough = passThrough
    }

    /// The name the map is asked about: the authorization identity when one is given.
    public var routingKey: String {
        if let authzid, !authzid.isEmpty { return authzid }
        return user
    }

    public var description: String {
        var text = "user \(user)"
        if let authzid { text += " authzid \(authzid)" }
        if let passThrough { text += " \(passThrough.mechanism.rawValue) response (redacted)" }
        return text + " password (redacted)"
    }

    public var debugDescription: String { "Credentials(\(description))" }
}

/// A SASL response that only the backend can check (a bearer token): passed on as the client sent it.
public struct SASLPassThrough: Sendable, Equatable, CustomStringConvertible {
    public var mechanism: SASLMechanism
    /// The decoded response (not base64).
    public var response: [UInt8]

    public init(mechanism: SASLMechanism, response: [UInt8]) {
        self.mechanism = mechanism
        self.response = response
    }

    public var description: String { "\(mechanism.rawValue) response (redacted)" }
}

/// How the client authenticated, so the backend login can mirror it.
public enum LoginMechanism: String, Sendable, Equatable {
    /// A user name and password outside SASL: IMAP `LOGIN`, POP3 `USER`/`PASS`.
    case login = "LOGIN"
    /// SASL PLAIN.
    case plain = "PLAIN"
    /// SASL LOGIN.
    case saslLogin = "AUTH=LOGIN"
    /// SASL XOAUTH2 (passed through).
    case xoauth2 = "XOAUTH2"
    /// SASL OAUTHBEARER (passed through).
    case oauthbearer = "OAUTHBEARER"
}

/// A client's request to log in: the front end hands it to the session, which routes it.
public struct LoginRequest: Sendable, Equatable {
    public var credentials: Credentials
    public var mechanism: LoginMechanism
    public init(credentials: Credentials, mechanism: LoginMechanism) {
        self.credentials = credentials
        self.mechanism = mechanism
    }
}

/// How a backend login ended, as the front end reports it to the client.
public enum LoginOutcome: Sendable, Equatable {
    /// The backend accepted; `text` is its final response without any tag (e.g. `OK [CAPABILITY ...] Logged in`).
    case success(text: String)
    /// The backend refused the credentials; `text` is its response without any tag (e.g. `NO [AUTHENTICATIONFAILED] ...`).
    case rejected(text: String)
    /// No backend could be used (unknown user without default, unreachable, TLS failure, protocol error).
    case unavailable(reason: String)
    /// The map knows no backend for this user.
    case unknownUser
}

/// What a front-end state machine asks its session to do.
public enum FrontEndAction: Sendable, Equatable {
    /// Send these bytes to the client.
    case send([UInt8])
    /// Start the TLS handshake with the client now (after sending what came before).
    case startTLS
    /// Route and log in; the machine waits for `loginFinished`.
    case login(LoginRequest)
    /// Login done: splice the connections, first forwarding these bytes the client pipelined.
    case relay(pipelined: [UInt8])
    /// Close the connection once what was queued is sent (`FrontEndMachine.closeReason` says why).
    case close
    /// The machine stopped at its per-call command cap with complete commands still buffered: call
    /// `resume()` on a later turn of the queue, so one client yields to the others.
    case yield
}

/// Why a front-end machine asked to close the connection.
public enum FrontEndCloseReason: String, Sendable, Equatable {
    /// The client said goodbye (LOGOUT, QUIT).
    case logout
    /// Too many failed logins on the connection.
    case tooManyLoginFailures = "too-many-login-failures"
    /// Too many invalid commands.
    case tooManyBadCommands = "too-many-bad-commands"
    /// More commands before login than `max_preauth_commands` allows.
    case preauthBudgetExceeded = "preauth-commands-exceeded"
    /// A command line far over the limit.
    case lineTooLong = "line-too-long"
    /// Input the reader cannot recover from.
    case unrecoverable
}

/// What a back-end login state machine asks its session to do.
public enum BackEndAction: Sendable, Equatable {
    /// Send these bytes to the backend.
    case send([UInt8])
    /// Start the TLS handshake with the backend now.
    case startTLS
    /// Logged in. `leftover` is whatever the backend sent after its final response.
    case succeeded(text: String, leftover: [UInt8])
    /// The login did not succeed.
    case failed(LoginOutcome)
    /// Something the operator must hear about (logged as a warning); the login goes on.
    case notice(String)
}

/// Options every back-end login machine takes.
public struct BackEndOptions: Sendable, Equatable {
    /// Upgrade with STARTTLS before logging in.
    public var useStartTLS: Bool
    /// Log in without TLS when a backend does not offer STARTTLS (off by default; warned every time).
    public var allowPlaintextFallback: Bool
    /// Longest backend line accepted during the login.
    public var maxLine: Int
    /// Capability (and other untagged) lines a backend may send before it answers the login; over it the
    /// login fails as unavailable.
    public var maxCapabilityLines: Int = 200
    /// Tell the backend who the client is (IMAP `ID`, POP3 and ManageSieve `XCLIENT`) before the login;
    /// nil sends nothing (`backend.forward_client: false`).
    public var forwardedClient: ForwardedClient?

    public init(useStartTLS: Bool, allowPlaintextFallback: Bool = false, maxLine: Int = 65536) {
        self.useStartTLS = useStartTLS
        self.allowPlaintextFallback = allowPlaintextFallback
        self.maxLine = maxLine
    }
}

/// A socket-free state machine for the client side of one protocol's pre-authentication dialogue.
public protocol FrontEndMachine {
    /// The bytes to greet a client with (after the TLS handshake for implicit TLS).
    mutating func greeting() -> [UInt8]
    /// Feeds bytes from the client; returns what to do.
    mutating func receive(_ bytes: [UInt8]) -> [FrontEndAction]
    /// The STARTTLS handshake finished.
    mutating func tlsEstablished() -> [FrontEndAction]
    /// The session finished the login the machine asked for.
    mutating func loginFinished(_ outcome: LoginOutcome) -> [FrontEndAction]
    /// The words to send before closing for a login timeout.
    func timeoutMessage() -> [UInt8]
    /// The words to send before closing because the server stops.
    func shutdownMessage() -> [UInt8]
    /// Goes on with buffered commands after a `.yield`.
    mutating func resume() -> [FrontEndAction]
    /// Why the machine asked to close, once it did.
    var closeReason: FrontEndCloseReason? { get }
}

/// A socket-free state machine that logs in to a backend on the client's behalf.
public protocol BackEndLoginMachine {
    /// Feeds bytes from the backend; returns what to do.
    mutating func receive(_ bytes: [UInt8]) -> [BackEndAction]
    /// The STARTTLS handshake with the backend finished.
    mutating func tlsEstablished() -> [BackEndAction]
    /// The machine still keeps the client's password or SASL response. It drops them once it sent what
    /// needs them, at the latest when the backend answers the login.
    var holdsCredentials: Bool { get }
}
