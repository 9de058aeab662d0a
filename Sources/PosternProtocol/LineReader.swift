/// Splits a client's byte stream into bounded lines (POP3 commands, SASL responses).
///
/// A line holds at most `maxLine` bytes before its LF (a CR before the LF counts). A longer line is
/// reported once as `.tooLong`; its bytes are dropped up to its LF, and `discardedBytes` tells how many
/// were dropped so far, so that a client sending an endless line can be cut off. It never consumes past
/// the line it returns, so the rest can be taken raw (dropped after STARTTLS, forwarded after a login).
public struct LineReader: FrontEndReader, Sendable {
    public enum Event: Sendable, Equatable {
        /// A line without its CRLF (or LF).
        case line([UInt8])
        /// A line exceeded `maxLine`; the reader drops bytes until it ends.
        case tooLong
    }

    public let maxLine: Int
    private var buffer = ReadBuffer()
    /// `buffer[0..<scanned]` holds no LF.
    private var scanned = 0
    private var discarding = false
    /// Bytes dropped in the current overlong line.
    public private(set) var discardedBytes = 0

    public init(maxLine: Int) { self.maxLine = maxLine }

    /// Bytes waiting to be read.
    public var bufferedCount: Int { buffer.count }

    public mutating func append(_ bytes: [UInt8]) {
        guard discarding else {
            buffer.append(bytes)
            return
        }
        if let lf = bytes.firstIndex(of: 10) {
            discarding = false
            discardedBytes += lf + 1
            buffer.append(bytes[(lf + 1)...])
        } else {
            discardedBytes += bytes.count
        }
    }

    /// The next line, or nil if more bytes are needed.
    public mutating func next() -> Event? {
        if discarding { return nil }
        guard let lf = buffer.firstLF(from: scanned) else {
            scanned = buffer.count
            guard buffer.count > maxLine else { return nil }
            discardedBytes = buffer.count
            consume(buffer.count)
            discarding = true
            return .tooLong
        }
        if lf > maxLine {
            discardedBytes = lf + 1
            consume(lf + 1)
            return .tooLong
        }
        let line = buffer.line(endingAt: lf)
        consume(lf + 1)
        discardedBytes = 0
        return .line(line)
    }

    /// Removes and returns everything buffered.
    public mutating func takeBuffered() -> [UInt8] {
        scanned = 0
        return buffer.takeAll()
    }

    private mutating func consume(_ count: Int) {
        buffer.consume(count)
        scanned = 0
    }
}

/// Collects a backend's bytes during a login and hands them out line by line, with a bound.
struct BackEndLineBuffer: Sendable {
    let maxLine: Int
    private var bytes = ReadBuffer()
    /// `bytes[0..<scanned]` holds no LF.
    private var scanned = 0

    init(maxLine: Int) { self.maxLine = maxLine }

    mutating func append(_ data: [UInt8]) { bytes.append(data) }

    /// The end of the line at the front, if its LF arrived; each byte is scanned once.
    private mutating func lineEnd() -> Int? {
        guard let lf = bytes.firstLF(from: scanned) else {
            scanned = bytes.count
            return nil
        }
        scanned = lf
        return lf
    }

    /// The line at the front is longer than the bound (whether or not its LF arrived yet).
    var overlong: Bool { mutating get { (lineEnd() ?? bytes.count) > maxLine } }

    /// The next line without its CRLF, or nil if it is not complete.
    mutating func takeLine() -> [UInt8]? {
        guard let lf = lineEnd() else { return nil }
        let line = bytes.line(endingAt: lf)
        consume(lf + 1)
        return line
    }

    /// `count` raw bytes (literal data), or nil if they have not all arrived.
    mutating func take(_ count: Int) -> [UInt8]? {
        guard bytes.count >= count else { return nil }
        defer { consume(count) }
        return bytes.bytes(0..<count)
    }

    /// Removes and returns everything buffered.
    mutating func takeAll() -> [UInt8] {
        scanned = 0
        return bytes.takeAll()
    }

    private mutating func consume(_ count: Int) {
        bytes.consume(count)
        scanned = 0
    }
}
