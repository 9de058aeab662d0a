import Glibc

/// The user and groups to run as after start-up (`server.user`, `server.group`), resolved from the
/// system's user and group databases.
public struct ProcessIdentity: Sendable, Equatable {
    /// The user's name, or nil when only a group was asked for (the user id then stays as it is).
    public var userName: String?
    public var uid: uid_t
    public var gid: gid_t
    /// Supplementary groups: the user's groups from the group database (with `gid`), or just `gid`.
    public var groups: [gid_t]

    public init(userName: String?, uid: uid_t, gid: gid_t, groups: [gid_t]) {
        self.userName = userName
        self.uid = uid
        self.gid = gid
        self.groups = groups
    }

    /// Looks the names up (`getpwnam_r`, `getgrnam_r`; a number that names no entry is tried as an id).
    /// The group defaults to the user's primary group; without a user, the uid stays the current one.
    /// Nil when neither is given.
    public static func resolve(user: String?, group: String?) throws(PrivilegeDropError) -> ProcessIdentity? {
        guard user != nil || group != nil else { return nil }
        var resolvedUser: (name: String, uid: uid_t, gid: gid_t)?
        if let user {
            guard let entry = lookUpUser(user) else { throw .unknownUser(user) }
            resolvedUser = entry
        }
        var gid = resolvedUser?.gid ?? getgid()
        if let group {
            guard let entry = lookUpGroup(group) else { throw .unknownGroup(group) }
            gid = entry
        }
        guard let resolvedUser else { return ProcessIdentity(userName: nil, uid: getuid(), gid: gid, groups: [gid]) }
        return ProcessIdentity(
            userName: resolvedUser.name, uid: resolvedUser.uid, gid: gid,
            groups: groupList(user: resolvedUser.name, gid: gid))
    }

    private static func lookUpUser(_ name: String) -> (name: String, uid: uid_t, gid: gid_t)? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        var status = getpwnam_r(name, &entry, &buffer, buffer.count, &result)
        if result == nil, let number = uid_t(name) {
            status = getpwuid_r(number, &entry, &buffer, buffer.count, &result)
        }
        guard status == 0, result != nil else { return nil }
        return (String(cString: entry.pw_name), entry.pw_uid, entry.pw_gid)
    }

    private static func lookUpGroup(_ name: String) -> gid_t? {
        var entry = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 65_536)
        var status = getgrnam_r(name, &entry, &buffer, buffer.count, &result)
        if result == nil, let number = gid_t(name) {
            status = getgrgid_r(number, &entry, &buffer, buffer.count, &result)
        }
        guard status == 0, result != nil else { return nil }
        return entry.gr_gid
    }

    /// `getgrouplist(3)`: every group the user belongs to, with `gid` first.
    private static func groupList(user: String, gid: gid_t) -> [gid_t] {
        var count: Int32 = 64
        var groups = [gid_t](repeating: 0, count: Int(count))
        while getgrouplist(user, gid, &groups, &count) < 0 && count <= 65_536 {
            count = max(count, Int32(groups.count) * 2)
            groups = [gid_t](repeating: 0, count: Int(count))
        }
        var list = [gid]
        for member in groups.prefix(Int(max(count, 0))) where !list.contains(member) { list.append(member) }
        return list
    }
}
