import Dispatch
import PosternIO

/// Arms one-shot timers on a shard's queue for a session's waits (a throttled login, a held answer): the
/// seam unit tests replace to fire them by hand. Nothing waits by blocking a thread.
protocol SessionTimer: Sendable {
    /// Runs `body` on `shard`'s queue at `deadline` (session clock nanoseconds) or later.
    func schedule(at deadline: UInt64, on shard: EventShard, _ body: @escaping @Sendable () -> Void)
}

/// The real timer: `asyncAfter` on the shard's queue, on the base of `MonotonicClock` (Dispatch's uptime).
struct ShardTimer: SessionTimer {
    func schedule(at deadline: UInt64, on shard: EventShard, _ body: @escaping @Sendable () -> Void) {
        shard.queue.asyncAfter(deadline: DispatchTime(uptimeNanoseconds: deadline), execute: body)
    }
}
