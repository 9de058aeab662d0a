import Glibc

/// Why the pid file could not be created, read or removed.
public enum PidFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file names a live process: another Postern probably runs.
    case alreadyRunning(path: String, pid: Int32)
    case cannotCreate(path: String, errno: Int32)
    case cannotRead(path: String, errno: Int32)
    /// The file does not hold a pid.
    case invalidContent(path: String)
    case cannotRemove(path: String, errno: Int32)

    public var description: String {
        switch self {
        case .alreadyRunning(let path, let pid): "pid file \(path): process \(pid) is running"
        case .cannotCreate(let path, let code): "pid file \(path): cannot create (\(String(cString: strerror(code))))"
        case .cannotRead(let path, let code): "pid file \(path): cannot read (\(String(cString: strerror(code))))"
        case .invalidContent(let path): "pid file \(path): does not hold a process id"
        case .cannotRemove(let path, let code): "pid file \(path): cannot remove (\(String(cString: strerror(code))))"
        }
    }
}
