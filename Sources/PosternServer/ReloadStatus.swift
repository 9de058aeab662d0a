import Foundation
import Glibc

/// What the status file next to the pid file (`<pid_file>.status`) says after each configuration load, for
/// `postern reload` to wait on: one JSON object.
public struct ReloadStatus: Codable, Sendable, Equatable {
    /// The server process that wrote it.
    public var pid: Int32
    /// The generation in service.
    public var generation: Int
    /// Load attempts since start (0: the load at start): a new value is a new outcome.
    public var attempt: Int
    public var succeeded: Bool
    public var errors: [String]
    /// When the attempt finished, in seconds since the epoch.
    public var at: Double

    public init(pid: Int32, record: ReloadRecord) {
        self.pid = pid
        generation = record.generation
        attempt = record.attempt
        succeeded = record.succeeded
        errors = record.errors
        at = record.at.timeIntervalSince1970
    }

    /// The status file that goes with a pid file.
    public static func path(forPidFile pidFile: String) -> String { pidFile + ".status" }

    /// The most a status file is read of (one JSON line with the errors of a refused load).
    static let maxBytes = 1 << 20

    /// Reads a status file; nil when it is missing, or caught half-written (read again).
    ///
    /// Read with `open` and `read`, not `FileManager.contents(atPath:)`: swift-foundation's read of a file
    /// whose size is 0 leaks its 4 KiB buffer each time (LeakSanitizer in `scripts/sanitize address`, from
    /// `postern reload` polling this file while the server rewrites it in place, when it is empty).
    public static func read(path: String) -> ReloadStatus? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < maxBytes {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            bytes += chunk[..<count]
        }
        guard !bytes.isEmpty else { return nil }
        return try? JSONDecoder().decode(ReloadStatus.self, from: Data(bytes))
    }
}
