import Logging
import PosternLog

/// swift-log's stream handler with its level read from the shared `LogControl` on every record, so that a
/// reload's `server.log_level` applies at once to every logger (until `server.log_format` brings
/// `PosternLogHandler`, which reads the same control).
struct ControlledStreamHandler: LogHandler {
    private var base: StreamLogHandler
    private let control: LogControl
    /// Set when code sets this logger's level: it then pins this logger (and its copies) only.
    private var levelOverride: Logger.Level?

    init(label: String, control: LogControl) {
        base = StreamLogHandler.standardError(label: label)
        self.control = control
        base.logLevel = .trace
    }

    var logLevel: Logger.Level {
        get { levelOverride ?? control.level }
        set { levelOverride = newValue }
    }

    var metadata: Logger.Metadata {
        get { base.metadata }
        set { base.metadata = newValue }
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { base.metadataProvider }
        set { base.metadataProvider = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { base[metadataKey: key] }
        set { base[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        guard event.level >= logLevel else { return }
        base.log(event: event)
    }
}
