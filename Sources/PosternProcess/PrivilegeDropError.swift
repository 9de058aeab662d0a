/// Why the process could not switch to `server.user` / `server.group`.
public enum PrivilegeDropError: Error, Sendable, Equatable, CustomStringConvertible {
    case unknownUser(String)
    case unknownGroup(String)
    /// Not running as root, and the identity asked for is not the current one.
    case notRoot(uid: UInt32)
    case setgroupsFailed(errno: Int32)
    case setgidFailed(errno: Int32)
    case setuidFailed(errno: Int32)
    /// After the switch the process could still become root again, or its ids are not the ones asked for.
    case verificationFailed

    public var description: String {
        switch self {
        case .unknownUser(let name): "server.user \(name): no such user"
        case .unknownGroup(let name): "server.group \(name): no such group"
        case .notRoot(let uid): "cannot change user or group: running as uid \(uid), not root"
        case .setgroupsFailed(let code): "setgroups failed (errno \(code))"
        case .setgidFailed(let code): "setgid failed (errno \(code))"
        case .setuidFailed(let code): "setuid failed (errno \(code))"
        case .verificationFailed: "privileges were not dropped as asked (root could be regained or ids differ)"
        }
    }
}
