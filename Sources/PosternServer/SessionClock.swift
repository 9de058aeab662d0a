/// Monotonic time in nanoseconds, on the same base as the `now` of `ShardTickable.tick`; tests inject their own.
protocol SessionClock: Sendable {
    func now() -> UInt64
}

extension UInt64 {
    /// Seconds of the configuration as nanoseconds of a `SessionClock`.
    static func nanoseconds(_ seconds: Double) -> UInt64 { UInt64(Swift.max(0, seconds) * 1_000_000_000) }
}
