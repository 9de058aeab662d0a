import PosternIO
import PosternSync

@testable import PosternServer

/// A session timer the test fires by hand: it records each deadline armed and runs the due ones when told.
final class FakeTimer: SessionTimer {
    private struct Armed {
        let deadline: UInt64
        let body: @Sendable () -> Void
    }

    private let armed = Mutex<[Armed]>([])

    func schedule(at deadline: UInt64, on shard: EventShard, _ body: @escaping @Sendable () -> Void) {
        armed.withLock { $0.append(Armed(deadline: deadline, body: body)) }
    }

    /// The deadlines armed and not fired yet, in order.
    var deadlines: [UInt64] { armed.withLock { $0.map(\.deadline) } }

    /// Runs every timer whose deadline is at or before `now` (call it on the shard's queue); returns how many.
    @discardableResult
    func fire(upTo now: UInt64) -> Int {
        let due = armed.withLock { armed -> [Armed] in
            let due = armed.filter { $0.deadline <= now }
            armed.removeAll { $0.deadline <= now }
            return due
        }
        for timer in due { timer.body() }
        return due.count
    }
}
