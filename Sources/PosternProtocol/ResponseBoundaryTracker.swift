import Glibc

/// Follows the server-to-client stream of a relayed session (and, for what the responses mean, the client's
/// command lines) so that a farewell is written only between two of the server's responses, never inside
/// one: a boundary is the end of a line that is not followed by a literal (IMAP and ManageSieve `{n}`,
/// `{n+}`, `~{n}`), and in POP3 not inside a multi-line response (after `+OK` to RETR, TOP, CAPA, or
/// LIST/UIDL without an argument, until the line `.`).
///
/// Bytes may arrive split anywhere. The cost per byte is a `memchr` for line ends; literal bytes are skipped
/// by count. Once the client asked for IMAP COMPRESS (the stream is then deflated), or pipelined more POP3
/// commands than are remembered, the stream cannot be followed: no boundary is reported again.
public struct ResponseBoundaryTracker: Sendable {
    /// Where the stream stands.
    enum Position: Sendable, Equatable {
        /// At the start of a line: the previous line ended without announcing a literal.
        case lineStart
        /// Inside a line (also after a literal, before the line's end).
        case inLine
        /// Inside a literal with this many bytes to go; its line goes on after it.
        case literal(remaining: UInt64)
        /// The stream can no longer be followed.
        case lost
    }

    public let dialect: MailDialect
    private(set) var position: Position = .lineStart
    /// POP3: inside a multi-line response (until the line `.`).
    private(set) var inMultiline = false
    /// The current line's last bytes (at most `tailLimit`, the literal's announcement at its end).
    private var tail: [UInt8] = []
    /// POP3: the current line's first bytes (at most `headLimit`: `+OK` and the `.` terminator).
    private var head: [UInt8] = []
    /// Bytes in the current line so far (saturating at `Int.max`).
    private var lineLength = 0
    private var commands: ClientCommandWatcher

    static let tailLimit = 32
    static let headLimit = 4

    /// A tracker for a stream that starts between responses (right after the login's response).
    public init(dialect: MailDialect) {
        self.dialect = dialect
        self.commands = ClientCommandWatcher(dialect: dialect)
    }

    /// True when everything fed so far ends between two responses: a farewell may follow now.
    public var isAtBoundary: Bool { position == .lineStart && !inMultiline }

    /// True once the stream can no longer be followed (no boundary will be reported).
    public var isLost: Bool { position == .lost }

    /// Bytes the client sent to the server (read for what the server's responses will be).
    public mutating func clientSent(_ bytes: UnsafeRawBufferPointer) {
        guard position != .lost else { return }
        if !commands.feed(bytes) { position = .lost }
    }

    public mutating func clientSent(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { clientSent($0) }
    }

    /// Bytes the server sent to the client, all of them.
    public mutating func serverSent(_ bytes: UnsafeRawBufferPointer) {
        _ = feed(bytes, stoppingAtBoundary: false)
    }

    public mutating func serverSent(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { serverSent($0) }
    }

    /// Feeds server bytes up to the first boundary in them and returns how many were fed (the farewell goes
    /// right after them; the rest belongs to a response that will not be delivered), or nil when the bytes
    /// hold no boundary (then all were fed). 0 when the stream is at a boundary already.
    public mutating func feedToBoundary(_ bytes: UnsafeRawBufferPointer) -> Int? {
        if isAtBoundary { return 0 }
        return feed(bytes, stoppingAtBoundary: true)
    }

    private mutating func feed(_ bytes: UnsafeRawBufferPointer, stoppingAtBoundary: Bool) -> Int? {
        guard let base = bytes.baseAddress else { return nil }
        let count = bytes.count
        var index = 0
        while index < count {
            switch position {
            case .lost:
                return nil
            case .literal(let remaining):
                let take = min(UInt64(count - index), remaining)
                index += Int(take)
                position = take == remaining ? .inLine : .literal(remaining: remaining - take)
            case .lineStart, .inLine:
                let start = base + index
                guard let found = memchr(start, 0x0A, count - index) else {
                    addToLine(UnsafeRawBufferPointer(start: start, count: count - index))
                    position = .inLine
                    return nil
                }
                let lineEnd = UnsafeRawPointer(found) - base
                addToLine(UnsafeRawBufferPointer(start: start, count: lineEnd - index))
                index = lineEnd + 1
                endLine()
                if stoppingAtBoundary && isAtBoundary { return index }
            }
        }
        return nil
    }

    private mutating func addToLine(_ part: UnsafeRawBufferPointer) {
        guard !part.isEmpty else { return }
        lineLength = lineLength &+ part.count
        if lineLength < 0 { lineLength = Int.max }
        if dialect == .pop3, head.count < Self.headLimit {
            head.append(contentsOf: part.prefix(Self.headLimit - head.count))
        }
        // The buffers keep their capacity: no allocation per line.
        if part.count >= Self.tailLimit {
            tail.removeAll(keepingCapacity: true)
            tail.append(contentsOf: part.suffix(Self.tailLimit))
        } else {
            tail.append(contentsOf: part)
            if tail.count > Self.tailLimit { tail.removeFirst(tail.count - Self.tailLimit) }
        }
    }

    /// A line feed arrived: a literal begins, or the line (and maybe a response) is over.
    private mutating func endLine() {
        var content = tail[...]
        if content.last == 0x0D { content = content.dropLast() }
        if dialect != .pop3, let size = Self.literalSize(announcedAtEndOf: content) {
            position = size == 0 ? .inLine : .literal(remaining: size)
            tail.removeAll(keepingCapacity: true)
            return
        }
        if dialect == .pop3 { endPOP3Line(length: content.count == tail.count ? lineLength : lineLength - 1) }
        position = .lineStart
        tail.removeAll(keepingCapacity: true)
        head.removeAll(keepingCapacity: true)
        lineLength = 0
    }

    /// POP3: a status line starts a multi-line response when it is `+OK` to a command that has one; the
    /// line `.` ends it.
    private mutating func endPOP3Line(length: Int) {
        if inMultiline {
            if length == 1 && head.first == UInt8(ascii: ".") { inMultiline = false }
            return
        }
        let multilineExpected = commands.nextResponseIsMultiline()
        if multilineExpected && head.starts(with: Array("+OK".utf8)) { inMultiline = true }
    }
}
