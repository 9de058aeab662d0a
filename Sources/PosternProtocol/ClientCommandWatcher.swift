import Glibc

/// Reads the command lines a relayed client sends, for `ResponseBoundaryTracker`: which POP3 responses will
/// be multi-line, and whether an IMAP client asked for COMPRESS (after which the stream cannot be followed).
/// Keeps at most the first `headLimit` bytes of each line and `maxPending` unanswered POP3 commands.
struct ClientCommandWatcher: Sendable {
    let dialect: MailDialect
    /// The current line's first bytes.
    private var head: [UInt8] = []
    /// POP3: for each command not answered yet, whether its `+OK` starts a multi-line response.
    private var pending: [Bool] = []
    private var pendingStart = 0

    static let headLimit = 32
    static let maxPending = 1024

    init(dialect: MailDialect) { self.dialect = dialect }

    /// Reads client bytes; false when the stream can no longer be followed.
    mutating func feed(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress, dialect != .managesieve else { return true }
        var index = 0
        while index < bytes.count {
            let start = base + index
            let rest = bytes.count - index
            let found = memchr(start, 0x0A, rest)
            let length = found.map { UnsafeRawPointer($0) - start } ?? rest
            if head.count < Self.headLimit {
                head.append(
                    contentsOf: UnsafeRawBufferPointer(start: start, count: length).prefix(Self.headLimit - head.count))
            }
            guard found != nil else { return true }
            index += length + 1
            guard endLine() else { return false }
        }
        return true
    }

    /// POP3: whether the next status line answers a command with a multi-line response (false when no
    /// command is waiting, e.g. for an unsolicited line).
    mutating func nextResponseIsMultiline() -> Bool {
        guard pendingStart < pending.count else { return false }
        let multiline = pending[pendingStart]
        pendingStart += 1
        if pendingStart == pending.count {
            pending.removeAll(keepingCapacity: true)
            pendingStart = 0
        }
        return multiline
    }

    private mutating func endLine() -> Bool {
        defer { head.removeAll(keepingCapacity: true) }
        let words = head.split(whereSeparator: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D })
            .map { String(decoding: $0, as: UTF8.self).uppercased() }
        switch dialect {
        case .imap:
            return !(words.count >= 2 && words[1] == "COMPRESS")
        case .pop3:
            guard pending.count - pendingStart < Self.maxPending else { return false }
            pending.append(Self.isMultiline(words))
            return true
        case .managesieve:
            return true
        }
    }

    /// RETR, TOP and CAPA answer `+OK` with several lines, and so do LIST and UIDL without an argument.
    static func isMultiline(_ words: [String]) -> Bool {
        guard let command = words.first else { return false }
        switch command {
        case "RETR", "TOP", "CAPA": return true
        case "LIST", "UIDL": return words.count == 1
        default: return false
        }
    }
}
