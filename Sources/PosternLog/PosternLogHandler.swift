import Logging

/// A swift-log handler that writes one escaped line per record in the format and at the level a shared
/// `LogControl` holds, so a reload changes both for every logger at once.
public struct PosternLogHandler: LogHandler {
    /// The logger's label (not written; every Postern logger is `postern`).
    public let label: String
    private let control: LogControl
    private let sink: any LogSink
    private let clock: LogClock
    private var levelOverride: Logger.Level?
    /// `metadata` sorted by key, kept in step with it so that a line does not sort the logger's own fields.
    private var sortedMetadata: [LogLineEncoder.Field] = []

    public var metadataProvider: Logger.MetadataProvider?

    public var metadata: Logger.Metadata = [:] {
        didSet { sortedMetadata = Self.sorted(metadata) }
    }

    /// The control's level, unless this logger's level was set, which then pins this logger (and its copies).
    public var logLevel: Logger.Level {
        get { levelOverride ?? control.level }
        set { levelOverride = newValue }
    }

    public init(
        label: String, control: LogControl, sink: any LogSink = FileDescriptorLogSink.standardError,
        clock: LogClock = .system, metadataProvider: Logger.MetadataProvider? = nil
    ) {
        self.label = label
        self.control = control
        self.sink = sink
        self.clock = clock
        self.metadataProvider = metadataProvider
    }

    /// The factory to hand to `LoggingSystem.bootstrap`: every logger writes through `control` and `sink`.
    public static func factory(
        control: LogControl, sink: any LogSink = FileDescriptorLogSink.standardError
    ) -> @Sendable (String) -> any LogHandler {
        { label in PosternLogHandler(label: label, control: control, sink: sink) }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Writes the line: `ts`, `level`, `msg`, then the logger's metadata, the provider's and the record's
    /// (a later one wins for the same key), sorted by key; the record's error, if any, as `error`. A record
    /// whose only metadata is a `LogFieldList` gives its fields without a dictionary.
    public func log(event: LogEvent) {
        if metadataProvider == nil, event.error == nil, let metadata = event.metadata, metadata.count == 1,
            case .stringConvertible(let value)? = metadata[LogFieldList.metadataKey], let list = value as? LogFieldList
        {
            let listed = list.sortedFields
            write(event, fields: sortedMetadata.isEmpty ? listed : Self.merge(sortedMetadata, listed))
            return
        }
        var extra: Logger.Metadata = metadataProvider?.get() ?? [:]
        if let recordMetadata = event.metadata {
            if extra.isEmpty {
                extra = recordMetadata
            } else {
                extra.merge(recordMetadata) { $1 }
            }
        }
        if let error = event.error, extra["error"] == nil {
            extra["error"] = .string(String(describing: error))
        }
        let fields = extra.isEmpty ? sortedMetadata : Self.merge(sortedMetadata, Self.sorted(extra))
        write(event, fields: fields)
    }

    private func write(_ event: LogEvent, fields: [LogLineEncoder.Field]) {
        let now = clock.now()
        let line = LogLineEncoder.encode(
            format: control.format, priorityPrefix: control.priorityPrefix, seconds: now.seconds,
            nanoseconds: now.nanoseconds, level: event.level, message: event.message.description, fields: fields)
        sink.write(line: line)
    }

    private static func sorted(_ metadata: Logger.Metadata) -> [LogLineEncoder.Field] {
        metadata.sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value) }
    }

    /// Merges two lists sorted by key; for a key in both, `overrides` wins.
    private static func merge(_ base: [LogLineEncoder.Field], _ overrides: [LogLineEncoder.Field])
        -> [LogLineEncoder.Field]
    {
        var result: [LogLineEncoder.Field] = []
        result.reserveCapacity(base.count + overrides.count)
        var left = 0
        var right = 0
        while left < base.count || right < overrides.count {
            if right == overrides.count || (left < base.count && base[left].key < overrides[right].key) {
                result.append(base[left])
                left += 1
            } else {
                if left < base.count && base[left].key == overrides[right].key { left += 1 }
                result.append(overrides[right])
                right += 1
            }
        }
        return result
    }
}
