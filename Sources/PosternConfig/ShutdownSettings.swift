/// The `shutdown:` block: how a stop (SIGTERM/SIGINT) drains the sessions.
public struct ShutdownSettings: Sendable, Equatable {
    /// Seconds relayed sessions may go on after the stop began; then each gets its protocol's farewell.
    /// 0 says the farewell at once.
    public var drainSeconds: Double = 30
    /// Seconds a client that has not logged in may still log in after the stop began. A pre-login client
    /// idle for this long gets the farewell at once; one that was greeted or answered more recently (its
    /// login may be on the way) gets it when the grace is over, unless it logged in by then (then it is
    /// relayed and drains like the others). 0 says the farewell to every pre-login client at once.
    public var loginGraceSeconds: Double = 2
    public init(drainSeconds: Double = 30, loginGraceSeconds: Double = 2) {
        self.drainSeconds = drainSeconds
        self.loginGraceSeconds = loginGraceSeconds
    }
}
