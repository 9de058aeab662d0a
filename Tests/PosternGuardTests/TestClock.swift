import PosternMap
import PosternSync

/// A clock the test moves by hand.
final class ManualClock: MapClock {
    private let time = Mutex<Double>(1000)
    func now() -> Double { time.withLock { $0 } }
    func advance(_ seconds: Double) { time.withLock { $0 += seconds } }
}
