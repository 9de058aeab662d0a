import Foundation

/// The admin API's view of one shard's sessions; each call hops to the shard's queue and answers from there.
extension ShardSessions {
    /// Snapshots of the sessions `filter` names.
    func snapshots(
        matching filter: SessionFilter, wallNow: Date, clock: any SessionClock = MonotonicClock(),
        completion: @escaping @Sendable ([SessionSnapshot]) -> Void
    ) {
        shard.queue.async {
            let now = clock.now()
            let found = self.sessions.values.filter { $0.matches(filter) }.map {
                $0.snapshot(now: now, wallNow: wallNow)
            }
            completion(found)
        }
    }

    /// Ends the sessions `filter` names with the protocol's farewell; reports how many.
    func kick(matching filter: SessionFilter, completion: @escaping @Sendable (Int) -> Void) {
        shard.queue.async {
            let chosen = self.sessions.values.filter { $0.outcome == nil && $0.matches(filter) }
            for session in chosen { session.farewell(.kicked) }
            completion(chosen.count)
        }
    }
}
