import Glibc

/// Tells systemd about start-up, reloads and shutdown (`Type=notify`) with the documented datagram protocol
/// of `sd_notify(3)`, without libsystemd: each message is one datagram on an `AF_UNIX` `SOCK_DGRAM` socket
/// to the address in `NOTIFY_SOCKET` (a path, or `@name` for the abstract namespace).
public struct SystemdNotifier: Sendable {
    /// The address as `NOTIFY_SOCKET` gives it.
    public let socketPath: String
    private let addressBytes: [UInt8]

    /// A notifier for `address` (an absolute path, or `@name` for an abstract socket).
    public init(socketPath address: String) throws(SystemdNotifyError) {
        var bytes = Array(address.utf8)
        let capacity = MemoryLayout.size(ofValue: sockaddr_un().sun_path)
        switch bytes.first {
        case UInt8(ascii: "/") where !bytes.contains(0): bytes.append(0)
        case UInt8(ascii: "@") where bytes.count > 1: bytes[0] = 0
        default: throw .invalidAddress(address)
        }
        guard bytes.count <= capacity else { throw .invalidAddress(address) }
        socketPath = address
        addressBytes = bytes
    }

    /// The notifier `NOTIFY_SOCKET` names, or nil when it is unset or empty (not started by systemd).
    public static func fromEnvironment(_ environment: [String: String]) throws(SystemdNotifyError) -> SystemdNotifier? {
        guard let address = environment["NOTIFY_SOCKET"], !address.isEmpty else { return nil }
        return try SystemdNotifier(socketPath: address)
    }

    /// Sends the notifications as one datagram (their assignments separated by newlines).
    public func send(_ notifications: [SystemdNotification]) throws(SystemdNotifyError) {
        let message = Array(notifications.map(\.assignment).joined(separator: "\n").utf8)
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .socketFailed(errno: errno) }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { path in
            for (index, byte) in addressBytes.enumerated() { path[index] = byte }
        }
        // A path is counted with its NUL; an abstract name is exactly its bytes after the leading NUL.
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + addressBytes.count)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                message.withUnsafeBytes {
                    sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), socketAddress, length)
                }
            }
        }
        guard sent == message.count else { throw .sendFailed(errno: sent < 0 ? errno : EMSGSIZE) }
    }

    /// Sends one notification.
    public func send(_ notification: SystemdNotification) throws(SystemdNotifyError) {
        try send([notification])
    }
}
