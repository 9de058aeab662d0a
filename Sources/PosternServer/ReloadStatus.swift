import Foundation

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

    /// Reads a status file; nil when it is missing, or caught half-written (read again).
    public static func read(path: String) -> ReloadStatus? {
        guard let data = FileManager.default.contents(atPath: path), !data.isEmpty else { return nil }
        return try? JSONDecoder().decode(ReloadStatus.self, from: data)
    }
}
