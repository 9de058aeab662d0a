import Glibc

/// Whether a process running as a `ProcessIdentity` can read a file (its folders searchable, the file
/// readable by owner, group or others bits), and whether every user can: what `check-config` says about
/// the files a server running as `server.user` re-reads on reload.
public enum FileAccess {
    /// True when `identity` can open `path` for reading (root always can). A file that cannot be
    /// stat'ed is not readable.
    public static func canRead(_ path: String, as identity: ProcessIdentity) -> Bool {
        guard identity.uid != 0 else { return true }
        var folder = ""
        for component in path.split(separator: "/").dropLast() {
            folder += "/" + component
            guard let info = status(folder), permits(info, identity, bit: 0o1) else { return false }
        }
        guard let info = status(path) else { return false }
        return permits(info, identity, bit: 0o4)
    }

    /// True when the file's mode lets any user read it (`o+r`).
    public static func othersCanRead(_ path: String) -> Bool {
        guard let info = status(path) else { return false }
        return info.st_mode & 0o004 != 0
    }

    /// The file's mode bits (permissions only), or nil when it cannot be stat'ed.
    public static func mode(_ path: String) -> UInt32? {
        status(path).map { UInt32($0.st_mode & 0o7777) }
    }

    private static func status(_ path: String) -> stat? {
        var info = stat()
        return stat(path, &info) == 0 ? info : nil
    }

    /// The owner's, the group's or the others' `bit` (4 read, 1 search), whichever class applies.
    private static func permits(_ info: stat, _ identity: ProcessIdentity, bit: UInt32) -> Bool {
        let mode = UInt32(info.st_mode)
        if info.st_uid == identity.uid { return mode & (bit << 6) != 0 }
        if info.st_gid == identity.gid || identity.groups.contains(info.st_gid) { return mode & (bit << 3) != 0 }
        return mode & bit != 0
    }
}
