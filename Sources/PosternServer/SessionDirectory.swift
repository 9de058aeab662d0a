import Dispatch
import Foundation
import PosternSync

/// The sessions of every shard, for the admin API: each shard answers on its own queue and the results are
/// gathered without blocking any queue (a group's notify on the caller's queue).
struct SessionDirectory: Sendable {
    let shards: [ShardSessions]

    /// Every matching session, oldest first, delivered on `queue`.
    func snapshots(
        matching filter: SessionFilter, on queue: DispatchQueue,
        completion: @escaping @Sendable ([SessionSnapshot]) -> Void
    ) {
        let group = DispatchGroup()
        let found = Gathered<[SessionSnapshot]>([])
        let wallNow = Date()
        for shard in shards {
            group.enter()
            shard.snapshots(matching: filter, wallNow: wallNow) { snapshots in
                found.update { $0.append(contentsOf: snapshots) }
                group.leave()
            }
        }
        group.notify(queue: queue) {
            let all = found.value
            completion(all.sorted { ($0.started, $0.id) < ($1.started, $1.id) })
        }
    }

    /// Says farewell to every matching session; the count is delivered on `queue`.
    func kick(matching filter: SessionFilter, on queue: DispatchQueue, completion: @escaping @Sendable (Int) -> Void) {
        let group = DispatchGroup()
        let count = Gathered(0)
        for shard in shards {
            group.enter()
            shard.kick(matching: filter) { kicked in
                count.update { $0 += kicked }
                group.leave()
            }
        }
        group.notify(queue: queue) { completion(count.value) }
    }
}

/// What the shards answered so far, under a lock (the answers come from several queues).
private final class Gathered<Value: Sendable>: Sendable {
    private let storage: Mutex<Value>

    init(_ value: Value) { storage = Mutex(value) }

    func update(_ body: (inout Value) -> Void) { storage.withLock { body(&$0) } }

    var value: Value { storage.withLock { $0 } }
}
