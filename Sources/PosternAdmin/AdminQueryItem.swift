/// One `name=value` pair of a query string or a form body, percent-decoded (`+` is a space).
public struct AdminQueryItem: Sendable, Equatable {
    public var name: String
    /// The value; empty for a bare `name` without `=`.
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// Decodes `a=1&b=x%20y&c` (`application/x-www-form-urlencoded`). Empty pairs (`a=1&&b=2`) are skipped;
    /// a bad `%` escape or bytes that are not UTF-8 after decoding are `AdminHTTPError.invalidQuery`.
    public static func parse(_ bytes: some Collection<UInt8>) throws(AdminHTTPError) -> [AdminQueryItem] {
        var items: [AdminQueryItem] = []
        for pair in bytes.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let equals = pair.firstIndex(of: UInt8(ascii: "="))
            let name = try decode(pair[pair.startIndex..<(equals ?? pair.endIndex)])
            let value = try equals.map { (index) throws(AdminHTTPError) in try decode(pair[pair.index(after: index)...])
            }
            items.append(AdminQueryItem(name: name, value: value ?? ""))
        }
        return items
    }

    private static func decode(_ bytes: some Collection<UInt8>) throws(AdminHTTPError) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                let high = bytes.index(after: index)
                guard high != bytes.endIndex, bytes.index(after: high) != bytes.endIndex,
                    let upper = hexValue(bytes[high]), let lower = hexValue(bytes[bytes.index(after: high)])
                else { throw .invalidQuery }
                out.append(upper << 4 | lower)
                index = bytes.index(high, offsetBy: 2)
                continue
            }
            out.append(byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
            index = bytes.index(after: index)
        }
        guard let text = String(validating: out, as: UTF8.self) else { throw .invalidQuery }
        return text
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
