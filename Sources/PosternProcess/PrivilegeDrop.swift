import Glibc

/// Switches the whole process (every thread: glibc applies set*id to all) to a `ProcessIdentity`:
/// supplementary groups, then the group, then the user, then checks that root cannot be regained.
/// Capabilities are not kept: binding a port below 1024 after the drop needs
/// `AmbientCapabilities=CAP_NET_BIND_SERVICE` in the unit.
public enum PrivilegeDrop {
    /// Applies `identity`. As root: `setgroups`, `setgid`, `setuid` (the last only when a user was
    /// named). Not as root: succeeds only when the identity is already the current one.
    /// Allocates nothing, so a test can call it in a forked child.
    public static func apply(_ identity: ProcessIdentity) throws(PrivilegeDropError) {
        let targetUID = identity.userName == nil ? geteuid() : identity.uid
        guard geteuid() == 0 else {
            if geteuid() == targetUID && getegid() == identity.gid { return }
            throw .notRoot(uid: UInt32(geteuid()))
        }
        let status = identity.groups.withUnsafeBufferPointer { setgroups($0.count, $0.baseAddress) }
        guard status == 0 else { throw .setgroupsFailed(errno: errno) }
        guard setgid(identity.gid) == 0 else { throw .setgidFailed(errno: errno) }
        if identity.userName != nil {
            guard setuid(identity.uid) == 0 else { throw .setuidFailed(errno: errno) }
        }
        guard getgid() == identity.gid, getegid() == identity.gid, getuid() == targetUID, geteuid() == targetUID
        else { throw .verificationFailed }
        if targetUID != 0 && setuid(0) == 0 { throw .verificationFailed }
    }

    /// Resolves and applies `server.user` / `server.group`; returns the identity now in force, or nil when
    /// neither was given (nothing changes).
    @discardableResult
    public static func drop(user: String?, group: String?) throws(PrivilegeDropError) -> ProcessIdentity? {
        guard let identity = try ProcessIdentity.resolve(user: user, group: group) else { return nil }
        try apply(identity)
        return identity
    }
}
