import Dispatch

/// The real session clock: Dispatch's uptime, the base the shard timer passes to `tick(now:)`.
struct MonotonicClock: SessionClock {
    func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
}
