import Glibc

/// The bearer token the admin API requires (from `server.admin_token_file`). Compared in constant time;
/// its description never shows the secret.
public struct AdminToken: Sendable, CustomStringConvertible {
    private let secret: [UInt8]

    /// Nil for an empty secret.
    public init?(secret: String) {
        guard !secret.isEmpty else { return nil }
        self.secret = Array(secret.utf8)
    }

    /// Reads the token from a file: its content with leading and trailing whitespace (the final newline)
    /// removed. At most 4 KiB; empty is an error.
    public static func read(path: String) throws(AdminTokenError) -> AdminToken {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .unreadable(path: path, errno: errno) }
        defer { close(fd) }
        var content: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4097)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw .unreadable(path: path, errno: errno) }
            if count == 0 { break }
            content.append(contentsOf: chunk[0..<count])
            guard content.count <= 4096 else { throw .tooLarge(path: path) }
        }
        let isSpace = { (byte: UInt8) in byte == 0x20 || (0x09...0x0D).contains(byte) }
        let trimmed = content.drop(while: isSpace).reversed().drop(while: isSpace).reversed()
        guard let token = AdminToken(secret: String(decoding: trimmed, as: UTF8.self)) else {
            throw .empty(path: path)
        }
        return token
    }

    /// Whether `presented` (the request's bearer token) is this token; false for nil.
    public func matches(_ presented: String?) -> Bool {
        guard let presented else { return false }
        return Self.constantTimeEquals(secret, Array(presented.utf8))
    }

    /// Compares two byte strings in time that depends only on the longer one's length, not on where
    /// they first differ.
    @inline(never)
    public static func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        var difference: UInt8 = lhs.count == rhs.count ? 0 : 1
        for index in 0..<max(lhs.count, rhs.count) {
            let left = index < lhs.count ? lhs[index] : 0
            let right = index < rhs.count ? rhs[index] : 0
            difference |= left ^ right
        }
        return difference == 0
    }

    public var description: String { "AdminToken(redacted)" }
}
