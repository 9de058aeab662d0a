import Logging
import PosternSync

@testable import PosternLog

/// A sink that keeps every line it is given.
final class CapturingSink: LogSink {
    private let storage = Mutex<[[UInt8]]>([])

    func write(line: [UInt8]) { storage.withLock { $0.append(line) } }

    var lines: [[UInt8]] { storage.withLock { $0 } }
    var texts: [String] { lines.map { String(decoding: $0, as: UTF8.self) } }
}

/// A logger writing to a capturing sink at a fixed instant (2026-11-30T03:29:28.123Z).
func makeLogger(control: LogControl, sink: CapturingSink) -> Logger {
    Logger(label: "postern") { label in
        PosternLogHandler(
            label: label, control: control, sink: sink,
            clock: .fixed(seconds: 1_796_009_368, nanoseconds: 123_456_789))
    }
}

/// A logfmt reader for the tests: splits a line into keys and (unescaped) values, so a test can check
/// that a value comes back exactly as it was logged.
func parseLogfmt(_ line: String) -> [(String, String)]? {
    var fields: [(String, String)] = []
    var scalars = Array(line.unicodeScalars)
    if scalars.last == "\n" { scalars.removeLast() }
    var index = 0
    while index < scalars.count {
        var key = ""
        while index < scalars.count, scalars[index] != "=" {
            key.unicodeScalars.append(scalars[index])
            index += 1
        }
        guard index < scalars.count else { return nil }
        index += 1
        var value = ""
        if index < scalars.count, scalars[index] == "\"" {
            index += 1
            while true {
                guard index < scalars.count else { return nil }
                let scalar = scalars[index]
                if scalar == "\"" { break }
                if scalar == "\\" {
                    index += 1
                    guard index < scalars.count else { return nil }
                    switch scalars[index] {
                    case "n": value += "\n"
                    case "r": value += "\r"
                    case "t": value += "\t"
                    case "\\": value += "\\"
                    case "\"": value += "\""
                    case "u":
                        guard index + 4 < scalars.count,
                            let code = UInt32(
                                String(String.UnicodeScalarView(scalars[(index + 1)...(index + 4)])), radix: 16),
                            let decoded = Unicode.Scalar(code)
                        else { return nil }
                        value.unicodeScalars.append(decoded)
                        index += 4
                    default: return nil
                    }
                } else {
                    value.unicodeScalars.append(scalar)
                }
                index += 1
            }
            index += 1
        } else {
            while index < scalars.count, scalars[index] != " " {
                value.unicodeScalars.append(scalars[index])
                index += 1
            }
        }
        fields.append((key, value))
        guard index == scalars.count || scalars[index] == " " else { return nil }
        index += 1
    }
    return fields
}
