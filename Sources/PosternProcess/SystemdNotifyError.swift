/// Why a notification could not be sent to the service manager.
public enum SystemdNotifyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `NOTIFY_SOCKET` is neither an absolute path nor `@abstract-name`, or is too long for `sun_path`.
    case invalidAddress(String)
    /// `socket(2)` failed.
    case socketFailed(errno: Int32)
    /// `sendto(2)` failed (e.g. `ENOENT` or `ECONNREFUSED` when nothing listens there).
    case sendFailed(errno: Int32)

    public var description: String {
        switch self {
        case .invalidAddress(let address): "NOTIFY_SOCKET \(address): not an absolute path or @name that fits sun_path"
        case .socketFailed(let code): "notify socket: socket() failed (errno \(code))"
        case .sendFailed(let code): "notify socket: send failed (errno \(code))"
        }
    }
}
