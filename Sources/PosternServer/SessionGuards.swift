import PosternConfig
import PosternGuard
import PosternMap

/// The abuse guards every session shares: the connection limiter, the login throttle and the timing that
/// answers given without a backend are held to. The server keeps one instance across reloads (a reload
/// calls `update`), so counts and penalties survive them.
public final class SessionGuards: Sendable {
    public let limiter: ConnectionLimiter
    public let throttle: LoginThrottle
    public let rejections: RejectionTiming
    /// A uniform number in -1...1 for the jitter of held answers (tests fix it).
    let jitter: @Sendable () -> Double

    /// The guards for `limits`; `clock` drives the throttle's decay (tests pass their own).
    public convenience init(limits: Limits, clock: any MapClock = SystemClock()) {
        self.init(limits: limits, clock: clock, jitter: { Double.random(in: -1...1) })
    }

    init(limits: Limits, clock: any MapClock, jitter: @escaping @Sendable () -> Double) {
        limiter = ConnectionLimiter(settings: ConnectionLimiter.Settings(limits: limits))
        throttle = LoginThrottle(
            settings: LoginThrottle.Settings(limits: limits), trusted: limits.trustedNetworks, clock: clock)
        rejections = RejectionTiming()
        self.jitter = jitter
    }

    /// New limits from a reload; what was counted stays counted.
    public func update(_ limits: Limits) {
        limiter.update(ConnectionLimiter.Settings(limits: limits))
        throttle.update(settings: LoginThrottle.Settings(limits: limits), trusted: limits.trustedNetworks)
    }
}
