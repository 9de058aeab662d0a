import PosternIO

/// One bound listening socket of the server: the address the config asked for, the socket, and the
/// listener (by name) it serves now. A reload matches bindings by address, so a renamed listener keeps its
/// socket and its sessions.
struct ListenerBinding: Sendable {
    /// Identifies the binding for the lifetime of the process (its sessions carry it).
    let id: Int
    /// The address the config's `listen:` entry resolved to (before binding: port 0 stays 0).
    let requested: SocketAddress
    let listener: Listener
    /// The `listeners:` entry it serves in the configuration in service.
    var name: String
}
