/// The fuzzer's bytes, taken apart piece by piece: a control byte, a piece up to a separator, the rest.
///
/// Every accessor is total: past the end it gives zero or an empty piece, so a target never traps on it.
public struct FuzzInput {
    public private(set) var rest: ArraySlice<UInt8>

    public init(_ data: UnsafePointer<UInt8>?, _ size: Int) {
        rest = data.map { Array(UnsafeBufferPointer(start: $0, count: size))[...] } ?? []
    }

    /// The next byte, or 0 at the end.
    public mutating func byte() -> UInt8 {
        guard let first = rest.first else { return 0 }
        rest = rest.dropFirst()
        return first
    }

    /// The bytes before the next `separator` (the separator is dropped), or all that is left.
    public mutating func piece(upTo separator: UInt8) -> [UInt8] {
        guard let index = rest.firstIndex(of: separator) else {
            defer { rest = [] }
            return Array(rest)
        }
        defer { rest = rest[(index + 1)...] }
        return Array(rest[..<index])
    }

    /// Everything left.
    public mutating func remainder() -> [UInt8] {
        defer { rest = [] }
        return Array(rest)
    }

    /// Everything left, as text (invalid UTF-8 replaced).
    public mutating func remainderText() -> String {
        String(decoding: remainder(), as: UTF8.self)
    }
}
