/// Request header fields in the order received, looked up case-insensitively (names are kept lowercased).
public struct AdminHTTPHeaders: Sendable, Equatable {
    /// Every field as received, the name lowercased, the value without surrounding spaces and tabs.
    public private(set) var fields: [(name: String, value: String)] = []

    public init() {}

    public init(_ fields: [(name: String, value: String)]) {
        for field in fields { append(name: field.name, value: field.value) }
    }

    /// Adds a field; the name is lowercased.
    public mutating func append(name: String, value: String) {
        fields.append((name: name.lowercased(), value: value))
    }

    /// The first value of `name` (any case), or nil.
    public subscript(name: String) -> String? {
        let key = name.lowercased()
        return fields.first { $0.name == key }?.value
    }

    /// Every value of `name` (any case), in order.
    public func values(_ name: String) -> [String] {
        let key = name.lowercased()
        return fields.filter { $0.name == key }.map(\.value)
    }

    public static func == (lhs: AdminHTTPHeaders, rhs: AdminHTTPHeaders) -> Bool {
        lhs.fields.count == rhs.fields.count
            && zip(lhs.fields, rhs.fields).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }
}
