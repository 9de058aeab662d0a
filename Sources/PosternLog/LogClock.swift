import Glibc

/// Where log timestamps come from: the system's real-time clock, or a fixed instant in tests.
public struct LogClock: Sendable {
    /// Seconds and nanoseconds since the Unix epoch.
    public let now: @Sendable () -> (seconds: Int64, nanoseconds: Int64)

    public init(now: @escaping @Sendable () -> (seconds: Int64, nanoseconds: Int64)) {
        self.now = now
    }

    /// `CLOCK_REALTIME`.
    public static let system = LogClock {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return (Int64(spec.tv_sec), Int64(spec.tv_nsec))
    }

    /// Always the same instant (for tests and golden lines).
    public static func fixed(seconds: Int64, nanoseconds: Int64 = 0) -> LogClock {
        LogClock { (seconds, nanoseconds) }
    }
}
