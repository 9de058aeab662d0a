import Glibc
import PosternSync

/// Writes each line to a file descriptor (stderr by default) with one `write(2)` per line, serialised
/// so that lines from different threads never interleave even when a write is short. Does not close the fd.
public final class FileDescriptorLogSink: LogSink {
    private struct State {
        var dropped = 0
    }

    /// The descriptor written to.
    public let fileDescriptor: Int32
    private let state = Mutex(State())

    /// A sink on standard error.
    public static let standardError = FileDescriptorLogSink(fileDescriptor: STDERR_FILENO)

    public init(fileDescriptor: Int32) {
        self.fileDescriptor = fileDescriptor
    }

    /// Lines that could not be written (the fd failed or stayed full for a second).
    public var droppedLines: Int { state.withLock { $0.dropped } }

    public func write(line: [UInt8]) {
        state.withLock { state in
            if !writeAll(line) { state.dropped += 1 }
        }
    }

    /// Writes every byte, retrying after `EINTR` and short writes and waiting up to 1 s for a full
    /// non-blocking fd; false when the line could not be written.
    private func writeAll(_ line: [UInt8]) -> Bool {
        line.withUnsafeBytes { raw in
            var offset = 0
            var waits = 0
            while offset < raw.count {
                let written = Glibc.write(fileDescriptor, raw.baseAddress! + offset, raw.count - offset)
                if written > 0 {
                    offset += written
                    continue
                }
                let error = errno
                if written < 0 && error == EINTR { continue }
                guard written < 0, error == EAGAIN || error == EWOULDBLOCK, waits < 10 else { return false }
                waits += 1
                var entry = pollfd(fd: fileDescriptor, events: Int16(POLLOUT), revents: 0)
                _ = poll(&entry, 1, 100)
            }
            return true
        }
    }

    /// Whether `fileDescriptor` is the journal stream systemd connected it to: `JOURNAL_STREAM` holds
    /// `DEVICE:INODE` of that stream (systemd.exec(5)). A service can then turn the `<N>` priority prefix on.
    public static func isJournalStream(fileDescriptor: Int32, environment: [String: String]) -> Bool {
        guard let value = environment["JOURNAL_STREAM"] else { return false }
        let parts = value.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var info = stat()
        guard fstat(fileDescriptor, &info) == 0 else { return false }
        return UInt64(info.st_dev) == device && UInt64(info.st_ino) == inode
    }
}
