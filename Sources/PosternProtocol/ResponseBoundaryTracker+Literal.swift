/// The literal announcement at the end of a response line.
extension ResponseBoundaryTracker {
    /// The size of the literal a line announces at its end (`{n}`, `{n+}`, `~{n}`: the bytes before the
    /// CRLF), or nil when it announces none. A size over UInt64's range is taken as the largest, which leaves
    /// the tracker inside the literal for good.
    static func literalSize(announcedAtEndOf line: ArraySlice<UInt8>) -> UInt64? {
        guard line.last == UInt8(ascii: "}") else { return nil }
        var index = line.index(before: line.endIndex)
        if index > line.startIndex && line[line.index(before: index)] == UInt8(ascii: "+") {
            index = line.index(before: index)
        }
        let digitsEnd = index
        while index > line.startIndex, (0x30...0x39).contains(line[line.index(before: index)]) {
            index = line.index(before: index)
        }
        let digits = line[index..<digitsEnd]
        guard !digits.isEmpty, index > line.startIndex,
            line[line.index(before: index)] == UInt8(ascii: "{")
        else { return nil }
        var value: UInt64 = 0
        for digit in digits {
            let (times, overflow) = value.multipliedReportingOverflow(by: 10)
            let (sum, carry) = times.addingReportingOverflow(UInt64(digit - 0x30))
            if overflow || carry { return UInt64.max }
            value = sum
        }
        return value
    }
}
