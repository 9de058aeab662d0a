import Logging
import PosternSync

/// The settings every `PosternLogHandler` reads on each record: level, format and the priority prefix.
/// Shared by all handlers of the process, so a reload changes them at once for every logger.
public final class LogControl: Sendable {
    private let levelIndex: Atomic<Int>
    private let formatIndex: Atomic<Int>
    private let prefix: Atomic<Bool>

    /// - Parameters:
    ///   - level: the lowest level written.
    ///   - format: the line format.
    ///   - priorityPrefix: start each line with `<N>`, the syslog priority of its level (sd-daemon style, for journald).
    public init(level: Logger.Level = .info, format: LogFormat = .logfmt, priorityPrefix: Bool = false) {
        levelIndex = Atomic(Self.index(of: level))
        formatIndex = Atomic(Self.index(of: format))
        prefix = Atomic(priorityPrefix)
    }

    /// The lowest level written; records below it are dropped before they are formatted.
    public var level: Logger.Level {
        get { Logger.Level.allCases[levelIndex.load(ordering: .relaxed)] }
        set { levelIndex.store(Self.index(of: newValue), ordering: .relaxed) }
    }

    /// The line format.
    public var format: LogFormat {
        get { LogFormat.allCases[formatIndex.load(ordering: .relaxed)] }
        set { formatIndex.store(Self.index(of: newValue), ordering: .relaxed) }
    }

    /// Whether lines start with `<N>` (the level's syslog priority), which journald reads from a service's stderr.
    public var priorityPrefix: Bool {
        get { prefix.load(ordering: .relaxed) }
        set { prefix.store(newValue, ordering: .relaxed) }
    }

    private static func index(of level: Logger.Level) -> Int {
        Logger.Level.allCases.firstIndex(of: level) ?? 2
    }

    private static func index(of format: LogFormat) -> Int {
        LogFormat.allCases.firstIndex(of: format) ?? 1
    }
}
