/// Bytes received and not yet consumed, for the command readers and the back-end line buffer.
///
/// Consuming only moves an offset; the consumed front is dropped once, when bytes are next appended. So
/// handling many commands from one read copies nothing per command. Indices are relative to the first
/// byte not yet consumed.
struct ReadBuffer: Sendable {
    private var storage: [UInt8] = []
    /// `storage[..<head]` is consumed.
    private var head = 0

    /// Bytes not yet consumed.
    var count: Int { storage.count - head }

    mutating func append(_ bytes: some Collection<UInt8>) {
        if head > 0 {
            storage.removeSubrange(..<head)
            head = 0
        }
        storage.append(contentsOf: bytes)
    }

    subscript(index: Int) -> UInt8 { storage[head + index] }

    subscript(range: Range<Int>) -> ArraySlice<UInt8> { storage[(head + range.lowerBound)..<(head + range.upperBound)] }

    /// The bytes in `range` as an array.
    func bytes(_ range: Range<Int>) -> [UInt8] { Array(self[range]) }

    /// The line that ends with the LF at `lf`, without its CR and LF.
    func line(endingAt lf: Int) -> [UInt8] { bytes(0..<(lf > 0 && self[lf - 1] == 13 ? lf - 1 : lf)) }

    /// The first LF at or after `start`.
    func firstLF(from start: Int) -> Int? {
        var index = head + start
        while index < storage.count {
            if storage[index] == 10 { return index - head }
            index += 1
        }
        return nil
    }

    /// Drops `count` bytes from the front.
    mutating func consume(_ count: Int) {
        head += count
        if head == storage.count {
            storage = []
            head = 0
        }
    }

    /// Removes and returns every byte not yet consumed.
    mutating func takeAll() -> [UInt8] {
        defer {
            storage = []
            head = 0
        }
        return Array(storage[head...])
    }
}
