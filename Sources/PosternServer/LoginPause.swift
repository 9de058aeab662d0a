import PosternProtocol

/// A login the abuse guards hold, with the time it is let go (session clock): the attempt waits for the
/// throttle's delay before it is routed, or its answer, given without a backend, waits so that it takes as
/// long as a backend's rejection would.
struct LoginPause {
    enum Stage {
        /// The client's request waits to be routed (it holds the credentials).
        case beforeRouting(LoginRequest)
        /// The answer waits; the attempt (its credentials released) is kept for the `login failed` line.
        case answer(DialFailure, LoginAttempt)
    }

    /// The attempt's number: a timer for an older attempt does nothing.
    let generation: Int
    let until: UInt64
    let stage: Stage

    var holdsCredentials: Bool {
        if case .beforeRouting = stage { return true }
        return false
    }
}
