import Logging
import PosternLog
import PosternSync

/// Keeps every log line of a test's sessions: message, level and metadata.
final class LogCapture: Sendable {
    struct Line: Sendable {
        let level: Logger.Level
        let message: String
        let metadata: [String: String]
        /// The keys in the order they were logged (a `LogFieldList`'s order; sorted for a dictionary).
        let keys: [String]
    }

    private let store = Mutex<[Line]>([])

    var lines: [Line] { store.withLock { $0 } }

    /// The closing `session` line, if written.
    var sessionLine: Line? { lines.last { $0.message == "session" } }

    /// Everything logged, as one text (to check that a secret appears nowhere).
    var allText: String {
        lines.map { line in
            ([line.message] + line.metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })
                .joined(separator: " ")
        }.joined(separator: "\n")
    }

    func append(_ line: Line) { store.withLock { $0.append(line) } }

    func logger() -> Logger {
        Logger(label: "test") { _ in CaptureHandler(capture: self) }
    }
}

/// The handler behind `LogCapture.logger()`.
struct CaptureHandler: LogHandler {
    let capture: LogCapture
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields = (event.metadata ?? [:]).mapValues { "\($0)" }
        var keys = fields.keys.sorted()
        // A line logged as a `LogFieldList` is kept as its fields (and their order checked by the tests).
        if case .stringConvertible(let value)? = event.metadata?[LogFieldList.metadataKey],
            let list = value as? LogFieldList
        {
            fields = Dictionary(list.fields.map { ($0.key, "\($0.value)") }) { first, _ in first }
            keys = list.fields.map(\.key)
        }
        capture.append(LogCapture.Line(level: event.level, message: "\(event.message)", metadata: fields, keys: keys))
    }
}
