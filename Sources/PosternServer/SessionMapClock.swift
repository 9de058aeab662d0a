import PosternMap

/// A session clock read in seconds, for the guards' own bookkeeping.
struct SessionMapClock: MapClock {
    let clock: any SessionClock
    func now() -> Double { Double(clock.now()) / 1_000_000_000 }
}
