import Logging
import PosternConfig
import PosternLog

/// `server.log_level` and `server.log_format` onto the shared log settings (at start and on every reload).
extension LogControl {
    /// Sets the level and the format from the `server:` block.
    public func apply(_ settings: ServerSettings) {
        level = Logger.Level(rawValue: settings.logLevel) ?? .info
        format = LogFormat(rawValue: settings.logFormat.rawValue) ?? .logfmt
    }
}
