import Logging

/// The fields of a frequent line (one per session) as an ordered list instead of a dictionary: logged as
/// the only metadata value under `LogFieldList.metadataKey`, `PosternLogHandler` writes them without
/// building or sorting a dictionary. Other handlers see one value whose description is the logfmt fields.
public struct LogFieldList: Sendable, CustomStringConvertible {
    /// The metadata key a list is logged under.
    public static let metadataKey = "_fields"

    /// The fields; `PosternLogHandler` writes them in key order (it sorts only when they are not already).
    public private(set) var fields: [(key: String, value: Logger.MetadataValue)]

    public init(capacity: Int = 24) {
        fields = []
        fields.reserveCapacity(capacity)
    }

    /// Appends a field; append in key order to spare the handler a sort.
    public mutating func append(_ key: String, _ value: String) {
        fields.append((key: key, value: .string(value)))
    }

    /// The value of the first field called `key` (tests, other handlers).
    public subscript(key: String) -> String? {
        guard let value = fields.first(where: { $0.key == key })?.value else { return nil }
        if case .string(let text) = value { return text }
        return value.description
    }

    /// The list as metadata for `Logger.log`.
    public var metadata: Logger.Metadata { [LogFieldList.metadataKey: .stringConvertible(self)] }

    /// Whether the keys are in ascending order.
    var isSorted: Bool {
        var index = 1
        while index < fields.count {
            if fields[index - 1].key > fields[index].key { return false }
            index += 1
        }
        return true
    }

    /// The fields in key order.
    var sortedFields: [LogLineEncoder.Field] {
        isSorted ? fields : fields.sorted { $0.key < $1.key }
    }

    public var description: String {
        var out: [UInt8] = []
        for (index, field) in fields.enumerated() {
            if index > 0 { out.append(UInt8(ascii: " ")) }
            LogEscaping.appendLogfmtKey(field.key, to: &out)
            out.append(UInt8(ascii: "="))
            LogEscaping.appendLogfmtValue(field.value.description, to: &out)
        }
        return String(decoding: out, as: UTF8.self)
    }
}
