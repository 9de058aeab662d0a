import Foundation

/// The session as the admin API sees it: a snapshot for `/sessions`, and the filter match for a kick.
/// Called on the session's shard queue.
extension Session {
    /// Whether `filter` names this session.
    func matches(_ filter: SessionFilter) -> Bool {
        filter.matches(id: id, user: log.user, backend: log.backend)
    }

    /// The session now; `wallNow` is the wall-clock instant of the session clock's `now`.
    func snapshot(now: UInt64, wallNow: Date) -> SessionSnapshot {
        var backendIn = log.backendIn
        var backendOut = log.backendOut
        var backend = log.backend
        var state = "login"
        switch phase {
        case .dialling(let dialler):
            backend = dialler.currentLabel ?? backend
            state = "connecting"
        case .loggedIn(let loggedIn):
            backendIn += loggedIn.connection.bytesIn
            backendOut += loggedIn.connection.bytesOut
            state = "connecting"
        case .relaying(let relay):
            backendIn += relay.backend.bytesIn
            backendOut += relay.backend.bytesOut
            state = "relayed"
        case .proxyHeader, .tlsAccept, .preauth, .starttls, .paused, .routing, .ended:
            break
        }
        let age = Double(now &- startedAt) / 1e9
        return SessionSnapshot(
            id: id, user: log.user, client: log.client, listener: listener.name, proto: log.proto, backend: backend,
            state: state, started: wallNow.addingTimeInterval(-age), clientIn: client.bytesIn,
            clientOut: client.bytesOut, backendIn: backendIn, backendOut: backendOut,
            clientTLS: log.clientTLS.map(SessionSnapshot.TLS.init),
            backendTLS: log.backendTLS.map(SessionSnapshot.TLS.init))
    }
}
