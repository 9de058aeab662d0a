import Glibc
import PosternConfig

/// The files a map reads (map and regex files, the LDAP password file and CA bundle), each with what `stat`
/// says about it: device, inode, size and modification time. A reload keeps the map, and so its cache,
/// when the map's configuration and this fingerprint did not change.
struct MapFilesFingerprint: Sendable, Equatable {
    /// What identifies one version of a file.
    struct Stamp: Sendable, Equatable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modifiedSeconds: Int
        var modifiedNanoseconds: Int
    }

    /// Path to its stamp; nil for a file that cannot be stat'ed.
    let stamps: [String: Stamp?]

    init(_ config: MapConfig) {
        var paths = config.files + config.regexFiles
        if let ldap = config.ldap {
            if let file = ldap.passwordFile { paths.append(file) }
            if let file = ldap.caFile { paths.append(file) }
        }
        var stamps: [String: Stamp?] = [:]
        for path in paths { stamps[path] = Self.stamp(path) }
        self.stamps = stamps
    }

    static func stamp(_ path: String) -> Stamp? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Stamp(
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
            modifiedSeconds: info.st_mtim.tv_sec, modifiedNanoseconds: info.st_mtim.tv_nsec)
    }
}
