/// What a command asks for, as its dialect decided; the engine carries it out.
enum FrontEndVerdict: Sendable {
    /// Send this answer.
    case reply([UInt8])
    /// An invalid command (counted): the protocol's BAD with this reason (no final period).
    case bad(String)
    /// A refusal worded by the engine (not counted as invalid).
    case refuse(FrontEndRefusal)
    case startTLS(hasArguments: Bool)
    case login(LoginRequest)
    /// AUTHENTICATE (POP3 AUTH) with this mechanism name.
    case authenticate(mechanism: String, initial: FrontEndInitialResponse)
    /// The client said goodbye: send this, then close.
    case logout([UInt8])

    /// Refuses a user name and password outside SASL (IMAP LOGIN, POP3 USER) where the connection does not
    /// allow them; nil where it does.
    static func passwordLoginRefusal(_ options: FrontEndOptions, command: String) -> FrontEndVerdict? {
        guard options.loginAllowed else { return .refuse(.plaintextLoginNeedsTLS) }
        guard options.passwordLoginAllowed else { return .refuse(.passwordLoginDisabled(command: command)) }
        return nil
    }
}

/// Refusals whose wording the three protocols share.
enum FrontEndRefusal: Sendable {
    /// Logins wait for TLS on this listener.
    case plaintextLoginNeedsTLS
    /// The listener offers no password mechanism.
    case passwordLoginDisabled(command: String)
}

/// The initial response of an AUTHENTICATE command.
enum FrontEndInitialResponse: Sendable {
    case none
    case response(SASLServerExchange.Response)
    /// Present but not a string; the reason (no final period) is the refusal.
    case invalid(String)
}
