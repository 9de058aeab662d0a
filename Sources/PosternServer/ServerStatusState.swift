import PosternIO

/// The part of the server's status that changes with reloads and the drain, kept under one lock so that
/// `Server`'s status properties read a consistent pair.
struct ServerStatusState: Sendable {
    var lastReload: ReloadRecord?
    /// Listener name to its bound addresses, for the listeners accepting now.
    var boundListeners: [String: [SocketAddress]] = [:]
}
