import PosternIO

/// The sessions of one shard with the listener binding each was accepted on, touched on that shard's queue
/// only (the methods that take effect later hop onto it).
final class ShardSessions: @unchecked Sendable {
    let shard: EventShard
    private var sessions: [ObjectIdentifier: (session: Session, binding: Int)] = [:]

    init(shard: EventShard) { self.shard = shard }

    func add(_ session: Session, binding: Int = 0) { sessions[ObjectIdentifier(session)] = (session, binding) }
    func remove(_ session: Session) { sessions.removeValue(forKey: ObjectIdentifier(session)) }

    /// Sessions of this shard now.
    var count: Int { sessions.count }

    /// Says `reason`'s farewell to the matching sessions: those of `binding` (every binding when nil), and
    /// only those before their relay when `beforeRelayOnly`.
    func farewell(_ reason: FarewellReason, binding: Int? = nil, beforeRelayOnly: Bool = false) {
        shard.queue.async {
            for (session, owner) in Array(self.sessions.values) {
                guard binding == nil || binding == owner else { continue }
                guard !beforeRelayOnly || session.isBeforeRelay else { continue }
                session.farewell(reason)
            }
        }
    }

    /// `farewell(.shutdown)` to every session.
    func shutdownAll() { farewell(.shutdown) }
}
