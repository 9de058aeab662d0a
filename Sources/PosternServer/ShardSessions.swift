import PosternIO

/// The sessions of one shard, with the listener binding each was accepted on, touched on that shard's
/// queue only (the methods that take effect later hop onto it).
final class ShardSessions: @unchecked Sendable {
    let shard: EventShard
    private(set) var sessions: [ObjectIdentifier: Session] = [:]
    /// The `ListenerBinding` id each session came through.
    private var bindings: [ObjectIdentifier: Int] = [:]

    init(shard: EventShard) { self.shard = shard }

    func add(_ session: Session, binding: Int = 0) {
        sessions[ObjectIdentifier(session)] = session
        bindings[ObjectIdentifier(session)] = binding
    }

    func remove(_ session: Session) {
        sessions.removeValue(forKey: ObjectIdentifier(session))
        bindings.removeValue(forKey: ObjectIdentifier(session))
    }

    /// Says `reason`'s farewell to the matching sessions: those of `binding` (every binding when nil), and
    /// only those before their relay when `beforeRelayOnly`.
    func farewell(_ reason: FarewellReason, binding: Int? = nil, beforeRelayOnly: Bool = false) {
        shard.queue.async {
            for (key, session) in Array(self.sessions) {
                guard binding == nil || binding == self.bindings[key] else { continue }
                guard !beforeRelayOnly || session.isBeforeRelay else { continue }
                session.farewell(reason)
            }
        }
    }

    /// Says `reason`'s farewell to the sessions that wait for a login command and whose client has been
    /// quiet for `idleFor` nanoseconds (the drain's login grace).
    func farewellIdleBeforeLogin(_ reason: FarewellReason, idleFor: UInt64) {
        shard.queue.async {
            for session in Array(self.sessions.values) where session.isIdleBeforeLogin(idleFor: idleFor) {
                session.farewell(reason)
            }
        }
    }
}
