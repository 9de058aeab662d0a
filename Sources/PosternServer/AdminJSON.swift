import Foundation
import PosternLog

/// JSON for the admin API: sorted keys (stable output), RFC 3339 timestamps in UTC with milliseconds.
enum AdminJSON {
    /// `value` as JSON bytes with a final newline; an encoding failure (not expected for our types) is `{}`.
    static func encode(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return Array("{}\n".utf8) }
        return Array(data) + [0x0A]
    }

    /// `2026-11-30T03:29:28.123Z`. (An `ISO8601DateFormatter` per value cost about 0.3 ms each in a debug
    /// build: most of a `/sessions` or `/status.json` answer.)
    static func timestamp(_ date: Date) -> String {
        LogTimestamp.string(secondsSinceEpoch: date.timeIntervalSince1970)
    }
}
