/// Settings every front end takes from its listener.
public struct FrontEndOptions: Sendable, Equatable {
    /// The listener can upgrade with STARTTLS (STLS for POP3).
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
    /// Commands before login that are not a login (CAPABILITY, NOOP, ID, CAPA, STARTTLS, ...) allowed on one
    /// connection; over it the protocol's farewell and a close (`limits.max_preauth_commands`).
    public var maxPreauthCommands: Int = 50
    /// Commands handled per `receive` or `resume` call; past it the machine answers `.yield`.
    public var maxCommandsPerCall: Int = 32
    /// The SASL mechanisms offered, in the order they are advertised.
    public var mechanisms: [SASLMechanism]

    public init(
        starttlsOffered: Bool, tlsActive: Bool, tlsRequiredForLogin: Bool, maxLine: Int, maxLoginAttempts: Int,
        mechanisms: [SASLMechanism] = SASLMechanism.defaults
    ) {
        self.starttlsOffered = starttlsOffered
        self.tlsActive = tlsActive
        self.tlsRequiredForLogin = tlsRequiredForLogin
        self.maxLine = maxLine
        self.maxLoginAttempts = maxLoginAttempts
        self.mechanisms = mechanisms
    }

    /// Logins are allowed on the connection as it is now (TLS active, or not required).
    public var loginAllowed: Bool { tlsActive || !tlsRequiredForLogin }

    /// A user name and password outside SASL (IMAP LOGIN, POP3 USER/PASS) is accepted: the listener offers
    /// a password mechanism (PLAIN or LOGIN) and the connection allows logins.
    public var passwordLoginAllowed: Bool {
        loginAllowed && (mechanisms.contains(.plain) || mechanisms.contains(.login))
    }

    /// The mechanisms to advertise now: none while logins are not allowed.
    public var advertisedMechanisms: [SASLMechanism] { loginAllowed ? mechanisms : [] }

    /// The enabled mechanism with this name (any case), if any.
    public func mechanism(named name: String) -> SASLMechanism? {
        guard let mechanism = SASLMechanism(rawValue: name.uppercased()), mechanisms.contains(mechanism) else {
            return nil
        }
        return mechanism
    }
}

/// Counts failed logins, invalid commands and commands before login on one connection against the
/// listener's bounds.
struct AttemptCounter: Sendable {
    let maxLogins: Int
    let maxBadCommands: Int
    let maxPreauthCommands: Int
    private(set) var failedLogins = 0
    private(set) var badCommands = 0
    private(set) var preauthCommands = 0

    init(options: FrontEndOptions) {
        maxLogins = options.maxLoginAttempts
        maxBadCommands = options.maxBadCommands
        maxPreauthCommands = options.maxPreauthCommands
    }

    /// Records a command before login that is not a login; true when it is over the budget.
    mutating func preauthCommand() -> Bool {
        preauthCommands += 1
        return preauthCommands > maxPreauthCommands
    }

    /// Records a failed login; true when no attempt is left.
    mutating func loginFailed() -> Bool {
        failedLogins += 1
        return failedLogins >= maxLogins
    }

    /// Records an invalid command; true when the connection should be closed.
    mutating func badCommand() -> Bool {
        badCommands += 1
        return badCommands >= maxBadCommands
    }
}
