/// The `shutdown:` block: how a stop (SIGTERM/SIGINT) drains the relayed sessions.
public struct ShutdownSettings: Sendable, Equatable {
    /// Seconds relayed sessions may go on after the stop began; then each gets its protocol's farewell.
    /// 0 says the farewell at once.
    public var drainSeconds: Double = 30
    public init(drainSeconds: Double = 30) { self.drainSeconds = drainSeconds }
}
