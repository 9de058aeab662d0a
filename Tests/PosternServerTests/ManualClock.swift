import PosternSync

@testable import PosternServer

/// A session clock the test moves by hand (nanoseconds).
final class ManualClock: SessionClock {
    private let time = Mutex<UInt64>(1_000_000_000_000)
    func now() -> UInt64 { time.withLock { $0 } }
    func advance(_ seconds: Double) { time.withLock { $0 += UInt64(seconds * 1_000_000_000) } }
}
