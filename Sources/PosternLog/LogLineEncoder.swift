import Logging

/// Builds one log line: timestamp, level, message, then the fields in the order given, every value escaped
/// so that the line stays one line whatever the values hold.
enum LogLineEncoder {
    /// One metadata field of a line.
    typealias Field = (key: String, value: Logger.MetadataValue)

    /// Keys the line itself uses; a metadata field with one of these names is written as `_NAME`.
    static let reservedKeys: Set<String> = ["ts", "level", "msg"]

    /// The whole line, `\n` included.
    static func encode(
        format: LogFormat, priorityPrefix: Bool, seconds: Int64, nanoseconds: Int64, level: Logger.Level,
        message: String, fields: [Field]
    ) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128 + message.utf8.count + fields.count * 24)
        if priorityPrefix {
            out.append(UInt8(ascii: "<"))
            out.append(contentsOf: String(level.syslogPriority).utf8)
            out.append(UInt8(ascii: ">"))
        }
        switch format {
        case .text: encodeText(seconds, nanoseconds, level, message, fields, into: &out)
        case .logfmt: encodeLogfmt(seconds, nanoseconds, level, message, fields, into: &out)
        case .json: encodeJSON(seconds, nanoseconds, level, message, fields, into: &out)
        }
        out.append(0x0A)
        return out
    }

    private static func encodeText(
        _ seconds: Int64, _ nanoseconds: Int64, _ level: Logger.Level, _ message: String, _ fields: [Field],
        into out: inout [UInt8]
    ) {
        LogTimestamp.append(seconds: seconds, nanoseconds: nanoseconds, to: &out)
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: level.rawValue.utf8)
        out.append(UInt8(ascii: " "))
        LogEscaping.appendEscaped(message, quote: false, to: &out)
        appendLogfmtFields(fields, to: &out)
    }

    private static func encodeLogfmt(
        _ seconds: Int64, _ nanoseconds: Int64, _ level: Logger.Level, _ message: String, _ fields: [Field],
        into out: inout [UInt8]
    ) {
        out.append(contentsOf: "ts=".utf8)
        LogTimestamp.append(seconds: seconds, nanoseconds: nanoseconds, to: &out)
        out.append(contentsOf: " level=".utf8)
        out.append(contentsOf: level.rawValue.utf8)
        out.append(contentsOf: " msg=".utf8)
        LogEscaping.appendLogfmtValue(message, to: &out)
        appendLogfmtFields(fields, to: &out)
    }

    private static func appendLogfmtFields(_ fields: [Field], to out: inout [UInt8]) {
        for field in fields {
            out.append(UInt8(ascii: " "))
            if reservedKeys.contains(field.key) { out.append(UInt8(ascii: "_")) }
            LogEscaping.appendLogfmtKey(field.key, to: &out)
            out.append(UInt8(ascii: "="))
            switch field.value {
            case .string(let text): LogEscaping.appendLogfmtValue(text, to: &out)
            case .stringConvertible(let value): LogEscaping.appendLogfmtValue(value.description, to: &out)
            case .array, .dictionary:
                var json: [UInt8] = []
                appendJSONValue(field.value, to: &json)
                LogEscaping.appendLogfmtValue(String(decoding: json, as: UTF8.self), to: &out)
            }
        }
    }

    private static func encodeJSON(
        _ seconds: Int64, _ nanoseconds: Int64, _ level: Logger.Level, _ message: String, _ fields: [Field],
        into out: inout [UInt8]
    ) {
        out.append(contentsOf: "{\"ts\":\"".utf8)
        LogTimestamp.append(seconds: seconds, nanoseconds: nanoseconds, to: &out)
        out.append(contentsOf: "\",\"level\":\"".utf8)
        out.append(contentsOf: level.rawValue.utf8)
        out.append(contentsOf: "\",\"msg\":".utf8)
        LogEscaping.appendJSONString(message, to: &out)
        for field in fields {
            out.append(UInt8(ascii: ","))
            LogEscaping.appendJSONString(reservedKeys.contains(field.key) ? "_" + field.key : field.key, to: &out)
            out.append(UInt8(ascii: ":"))
            appendJSONValue(field.value, to: &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    /// A metadata value as JSON: strings as strings, integers, finite floating-point numbers and booleans
    /// given as `stringConvertible` as themselves, arrays as arrays, dictionaries as objects with sorted keys.
    static func appendJSONValue(_ value: Logger.MetadataValue, to out: inout [UInt8]) {
        switch value {
        case .string(let text):
            LogEscaping.appendJSONString(text, to: &out)
        case .stringConvertible(let value):
            if let literal = jsonLiteral(value) {
                out.append(contentsOf: literal.utf8)
            } else {
                LogEscaping.appendJSONString(value.description, to: &out)
            }
        case .array(let values):
            out.append(UInt8(ascii: "["))
            for (index, element) in values.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                appendJSONValue(element, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .dictionary(let values):
            out.append(UInt8(ascii: "{"))
            for (index, key) in values.keys.sorted().enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                LogEscaping.appendJSONString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                appendJSONValue(values[key]!, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func jsonLiteral(_ value: any CustomStringConvertible & Sendable) -> String? {
        switch value {
        case let flag as Bool: return flag ? "true" : "false"
        case let integer as any BinaryInteger: return integer.description
        case let number as Double: return number.isFinite ? number.description : nil
        case let number as Float: return number.isFinite ? number.description : nil
        default: return nil
        }
    }
}
