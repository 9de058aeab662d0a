import PosternProtocol

/// Why a login attempt gave up without a logged-in backend: what the client is told, the
/// `postern_logins_total` result, and the error behind it for the `backend unavailable` warning.
struct DialFailure {
    static let unavailableText = "Backend server unavailable, try again later."

    let outcome: LoginOutcome
    /// `unavailable`, `rejected`, `unknown-user`.
    let result: LoginResult
    /// The last connection or TLS error, if any (logged, never shown to the client).
    let reason: String?
    /// The backend tried last.
    let label: String?

    /// No candidate could be used.
    static func unavailable(reason: String?, label: String?) -> DialFailure {
        DialFailure(outcome: .unavailable(reason: unavailableText), result: .unavailable, reason: reason, label: label)
    }

    /// The back-end login machine ended the login (refused credentials, missing STARTTLS, protocol error).
    static func login(_ outcome: LoginOutcome, label: String?) -> DialFailure {
        let result: LoginResult
        switch outcome {
        case .success: result = .ok
        case .rejected: result = .rejected
        case .unavailable: result = .unavailable
        case .unknownUser: result = .unknownUser
        }
        return DialFailure(outcome: outcome, result: result, reason: nil, label: label)
    }
}
