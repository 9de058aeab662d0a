import Foundation
import Glibc

/// The status file the server rewrites after each configuration load (`ReloadStatus`). Opened once at start,
/// before privileges are dropped, and rewritten in place through that descriptor, so that a server running
/// as `server.user` keeps writing it in a folder it cannot create files in. A reader can catch it half
/// written: `ReloadStatus.read` then gives nil and the reader tries again.
final class ReloadStatusFile: Sendable {
    let path: String
    private let fd: Int32

    /// Creates or opens the file (mode 0644); throws the errno text when it cannot.
    init(path: String) throws(RuntimeError) {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else { throw RuntimeError("status file \(path): \(String(cString: strerror(errno)))") }
        self.path = path
        self.fd = fd
    }

    deinit { close(fd) }

    /// Replaces the content with `status` as one JSON line.
    func write(_ status: ReloadStatus) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard var data = try? encoder.encode(status) else { return }
        data.append(0x0A)
        _ = ftruncate(fd, 0)
        _ = data.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    /// Removes the file (at exit); fails quietly when the folder no longer lets this process.
    func remove() { unlink(path) }
}
