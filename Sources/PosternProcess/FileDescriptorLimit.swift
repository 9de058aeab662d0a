import Glibc

/// The process's `RLIMIT_NOFILE` next to what `limits.max_sessions` needs, so start-up can raise the soft
/// limit to the hard one and warn when even that is too low.
public struct FileDescriptorLimit: Sendable, Equatable {
    /// The soft limit (what `open`, `accept` and `socket` are held to).
    public var soft: UInt64
    /// The hard limit (the most an unprivileged process may raise the soft limit to).
    public var hard: UInt64
    /// Descriptors `max_sessions` needs: see `needed(maxSessions:)`.
    public var needed: UInt64

    public init(soft: UInt64, hard: UInt64, needed: UInt64) {
        self.soft = soft
        self.hard = hard
        self.needed = needed
    }

    /// Whether the soft limit covers what is needed.
    public var isSufficient: Bool { soft >= needed }

    /// Two descriptors per session (the client socket and the backend socket) plus 64 for everything
    /// else: listeners, the admin listener and its connections, event-loop and timer fds, LDAP
    /// connections, map and certificate files being read, stdio.
    public static func needed(maxSessions: Int) -> UInt64 {
        UInt64(max(maxSessions, 0)) * 2 + 64
    }

    /// The current limits, without changing them.
    public static func current(maxSessions: Int) throws(FileDescriptorLimitError) -> FileDescriptorLimit {
        var limit = rlimit()
        guard getrlimit(resourceNOFILE, &limit) == 0 else { throw .getrlimitFailed(errno: errno) }
        return FileDescriptorLimit(
            soft: UInt64(limit.rlim_cur), hard: UInt64(limit.rlim_max), needed: needed(maxSessions: maxSessions))
    }

    /// Raises the soft limit to the hard limit (an unlimited hard limit means the kernel's
    /// `/proc/sys/fs/nr_open`) and returns the limits now in force. The caller warns when `isSufficient`
    /// is false. (`RLIM_INFINITY` is all ones; Swift cannot import its macro.)
    public static func raise(maxSessions: Int) throws(FileDescriptorLimitError) -> FileDescriptorLimit {
        var limit = rlimit()
        guard getrlimit(resourceNOFILE, &limit) == 0 else { throw .getrlimitFailed(errno: errno) }
        let target = limit.rlim_max == rlim_t.max ? rlim_t(kernelMaximum()) : limit.rlim_max
        if limit.rlim_cur < target {
            var raised = limit
            raised.rlim_cur = target
            guard setrlimit(resourceNOFILE, &raised) == 0 else { throw .setrlimitFailed(errno: errno) }
        }
        return try current(maxSessions: maxSessions)
    }

    private static let resourceNOFILE = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)

    /// `/proc/sys/fs/nr_open`, the most descriptors a process can have; 1048576 (its default) if unreadable.
    private static func kernelMaximum() -> UInt64 {
        let fallback: UInt64 = 1_048_576
        let fd = open("/proc/sys/fs/nr_open", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return fallback }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return fallback }
        return UInt64(String(decoding: buffer[0..<count], as: UTF8.self).filter(\.isNumber)) ?? fallback
    }
}
