/// Why the admin token file could not be used.
public enum AdminTokenError: Error, Sendable, Equatable, CustomStringConvertible {
    case unreadable(path: String, errno: Int32)
    case empty(path: String)
    case tooLarge(path: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let code): "admin token file \(path): cannot read (errno \(code))"
        case .empty(let path): "admin token file \(path) is empty"
        case .tooLarge(let path): "admin token file \(path) is larger than 4 KiB"
        }
    }
}
