/// One argument of an IMAP command, as far as the pre-authentication subset needs them.
public enum IMAPArgument: Sendable, Equatable {
    /// An atom (including `NIL` and base64 text).
    case atom(String)
    /// A quoted string or a literal: raw bytes.
    case string([UInt8])
    /// A parenthesised list.
    case list([IMAPArgument])

    /// The argument as an astring (atom or string), nil for a list.
    public var astring: [UInt8]? {
        switch self {
        case .atom(let text): return Array(text.utf8)
        case .string(let bytes): return bytes
        case .list: return nil
        }
    }
}

/// A complete IMAP command line with its literals resolved.
public struct IMAPCommand: Sendable, Equatable {
    public var tag: String
    /// The command name, upper-cased.
    public var name: String
    public var arguments: [IMAPArgument]
}

/// Splits an IMAP client's byte stream into commands, with literals and bounds (RFC 9051, RFC 7888).
///
/// It never consumes past the end of the command it returns, so the caller can take the rest of
/// the buffer raw (to discard it after STARTTLS, or to forward it after a login).
///
/// Bounds: a line (counting a CR before its LF, not the LF) or a literal may hold `maxLine` bytes; a whole
/// command, literals included, `maxCommand` (4 × `maxLine`) bytes. So once `next()` returned nil, at most
/// `maxCommand` bytes are buffered. Without synchronizing literals, the events do not depend on how the input
/// was chunked; a synchronizing literal's header is checked (`.continuationNeeded` or `.bad`) only while its
/// data is missing. Each byte is scanned for a line end once, however the input is chunked.
public struct IMAPCommandReader: FrontEndReader, Sendable {
    /// What the reader found next.
    public enum Event: Sendable, Equatable {
        case command(IMAPCommand)
        /// The client waits for `+` before sending a synchronizing literal.
        case continuationNeeded
        /// The command is malformed; the bytes up to its end were dropped. `tag` is nil if none could be read.
        case bad(tag: String?, reason: String)
        /// A line, literal or command exceeded its bound; the command was dropped and the reader drops bytes
        /// until its current line ends.
        case tooLong(tag: String?)
        /// The stream cannot be resynchronised: a non-synchronizing literal over the bound (its data is
        /// already on the way and could not be told from commands), or too many literals. The reader accepts
        /// no more input; the caller answers and closes the connection.
        case unrecoverable(tag: String?, reason: String)
    }

    /// One raw line (a SASL response), as `nextLine()` returns it.
    public enum Line: Sendable, Equatable {
        /// The line without its CRLF or LF.
        case line([UInt8])
        /// The line exceeded `maxLine`; the reader now drops bytes until it ends.
        case tooLong
    }

    /// The most literals one command may carry.
    public static let maxLiterals = 32

    public let maxLine: Int
    private var buffer = ReadBuffer()
    private var continuationsSent = 0
    /// Dropping an overlong line until its LF.
    private var discarding = false
    /// After `.unrecoverable`: everything is dropped.
    private var failed = false
    /// How far the command at the front of `buffer` has been framed.
    private var progress = Progress()
    /// Bytes dropped in the current overlong line.
    public private(set) var discardedBytes = 0

    public init(maxLine: Int) { self.maxLine = maxLine }

    /// The most bytes one command may take, literals included.
    public var maxCommand: Int { 4 * maxLine }

    /// Bytes waiting to be parsed.
    public var bufferedCount: Int { buffer.count }

    public mutating func append(_ bytes: [UInt8]) {
        if failed { return }
        if discarding {
            if let lf = bytes.firstIndex(of: 10) {
                discarding = false
                discardedBytes += lf + 1
                buffer.append(bytes[(lf + 1)...])
            } else {
                discardedBytes += bytes.count
            }
        } else {
            buffer.append(bytes)
        }
    }

    /// Removes and returns everything buffered (pipelined bytes after a login, or bytes to discard).
    public mutating func takeBuffered() -> [UInt8] {
        let all = buffer.bytes(0..<buffer.count)
        consume(buffer.count)
        return all
    }

    /// The next event, or nil if more bytes are needed.
    public mutating func next() -> Event? {
        if discarding || failed { return nil }
        switch frame() {
        case .incomplete(let syncLiterals, let headerEnd):
            if syncLiterals > continuationsSent {
                continuationsSent = syncLiterals
                if let header = validateHeader(headerEnd: headerEnd) {
                    return header
                }
                return .continuationNeeded
            }
            return nil
        case .lineTooLong(let lineStart):
            let tag = leadingTag
            startDiscarding(from: lineStart)
            return .tooLong(tag: tag)
        case .literalTooLarge(let end, let nonSync):
            let tag = leadingTag
            guard !nonSync else { return fail(tag: tag, reason: "Literal too large") }
            // Drop what was framed so far; the client will not send a refused synchronizing literal.
            consume(end)
            return .tooLong(tag: tag)
        case .tooManyLiterals:
            return fail(tag: leadingTag, reason: "Too many literals")
        case .complete(let segments, let consumed):
            let bytes = buffer.bytes(0..<consumed)
            consume(consumed)
            discardedBytes = 0
            return IMAPCommandReader.parse(bytes: bytes, segments: segments)
        }
    }

    /// The next raw line (a SASL response, which may not contain literals), or nil if more bytes are needed.
    public mutating func nextLine() -> Line? {
        if discarding || failed { return nil }
        let from = progress.position == 0 ? progress.scanned : 0
        guard let lf = buffer.firstLF(from: from) else {
            progress.scanned = progress.position == 0 ? buffer.count : 0
            guard buffer.count > maxLine else { return nil }
            startDiscarding(from: 0)
            return .tooLong
        }
        guard lf <= maxLine else {
            startDiscarding(from: 0)
            return .tooLong
        }
        let line = buffer.line(endingAt: lf)
        consume(lf + 1)
        discardedBytes = 0
        return .line(line)
    }

    /// Removes `count` bytes from the front: a new command starts there.
    private mutating func consume(_ count: Int) {
        buffer.consume(count)
        progress = Progress()
        continuationsSent = 0
    }

    private mutating func fail(tag: String?, reason: String) -> Event {
        failed = true
        consume(buffer.count)
        return .unrecoverable(tag: tag, reason: reason)
    }

    /// Drops the command up to the end of its overlong line, which starts at `lineStart`.
    private mutating func startDiscarding(from lineStart: Int) {
        if let lf = buffer.firstLF(from: max(lineStart, progress.scanned)) {
            discardedBytes = lf + 1
            consume(lf + 1)
        } else {
            discardedBytes = buffer.count
            consume(buffer.count)
            discarding = true
        }
    }

    /// Before acknowledging a literal, the tag and command must look right. On failure the command
    /// framed so far (through the literal header ending at `headerEnd`) is dropped.
    private mutating func validateHeader(headerEnd: Int) -> Event? {
        guard let lf = buffer.firstLF(from: 0) else { return nil }
        let line = buffer.line(endingAt: lf)
        let words = line.split(separator: 32, maxSplits: 2, omittingEmptySubsequences: false)
        let tag = words.first.flatMap { IMAPCommandReader.validTag(Array($0)) }
        guard words.count >= 2, let tag else {
            consume(headerEnd)
            return .bad(tag: nil, reason: "Invalid tag")
        }
        let name = String(decoding: words[1], as: UTF8.self).uppercased()
        guard ["LOGIN", "ID", "AUTHENTICATE"].contains(name) else {
            consume(headerEnd)
            return .bad(tag: tag, reason: "Literal not allowed for this command")
        }
        return nil
    }

    /// Where framing of the command at the front of the buffer stopped.
    struct Progress: Sendable {
        /// Line text and literal data framed so far (complete literals only).
        var segments: [Range<Int>] = []
        /// Where the line being framed starts.
        var position = 0
        /// Synchronizing literals whose data is complete.
        var syncLiterals = 0
        /// The end of the last literal header line framed.
        var headerEnd = 0
        /// `buffer[position..<scanned]` holds no LF.
        var scanned = 0
    }

    enum Framing {
        /// `syncLiterals`: synchronizing literal headers seen, including one whose data is still missing;
        /// `headerEnd`: the end of the last literal header line (0 if none).
        case incomplete(syncLiterals: Int, headerEnd: Int)
        /// The line starting at `lineStart` exceeds `maxLine`, or the command through it `maxCommand`.
        case lineTooLong(lineStart: Int)
        /// A literal exceeds `maxLine` or the command bound; its header line ends at `end`.
        case literalTooLarge(end: Int, nonSync: Bool)
        /// More than `maxLiterals` literals.
        case tooManyLiterals
        /// Segments: ranges of line text (without CRLF) and literal data, alternating, starting with text.
        case complete(segments: [Range<Int>], consumed: Int)
    }

    /// Frames the command at the front of the buffer, resuming where the last call stopped.
    mutating func frame() -> Framing {
        while true {
            let position = progress.position
            guard let lf = buffer.firstLF(from: max(position, progress.scanned)) else {
                progress.scanned = buffer.count
                if buffer.count - position > maxLine || buffer.count > maxCommand {
                    return .lineTooLong(lineStart: position)
                }
                return .incomplete(syncLiterals: progress.syncLiterals, headerEnd: progress.headerEnd)
            }
            progress.scanned = lf
            if lf - position > maxLine || lf + 1 > maxCommand { return .lineTooLong(lineStart: position) }
            let lineEnd = lf > position && buffer[lf - 1] == 13 ? lf - 1 : lf
            guard let literal = IMAPCommandReader.literalHeader(buffer[position..<lineEnd]) else {
                return .complete(segments: progress.segments + [position..<lineEnd], consumed: lf + 1)
            }
            let dataStart = lf + 1
            if literal.size > maxLine || dataStart + literal.size > maxCommand {
                return .literalTooLarge(end: dataStart, nonSync: literal.nonSync)
            }
            if progress.segments.count / 2 >= IMAPCommandReader.maxLiterals { return .tooManyLiterals }
            let syncLiterals = progress.syncLiterals + (literal.nonSync ? 0 : 1)
            if buffer.count < dataStart + literal.size {
                // The header line is framed again next time; its LF is found at once.
                return .incomplete(syncLiterals: syncLiterals, headerEnd: dataStart)
            }
            progress.segments += [position..<lineEnd, dataStart..<dataStart + literal.size]
            progress.syncLiterals = syncLiterals
            progress.headerEnd = dataStart
            progress.position = dataStart + literal.size
            progress.scanned = progress.position
        }
    }

    /// `{123}` or `{123+}` at the end of a line.
    static func literalHeader(_ line: ArraySlice<UInt8>) -> (size: Int, nonSync: Bool)? {
        guard line.last == UInt8(ascii: "}"), let open = line.lastIndex(of: UInt8(ascii: "{")) else { return nil }
        var digits = line[(open + 1)..<(line.endIndex - 1)]
        var nonSync = false
        if digits.last == UInt8(ascii: "+") {
            nonSync = true
            digits = digits.dropLast()
        }
        guard !digits.isEmpty, digits.count <= 10, digits.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        let size = digits.reduce(0) { $0 * 10 + Int($1 - 48) }
        return (size, nonSync)
    }

    /// A tag: one or more ASTRING-CHARs other than `+`.
    static func validTag(_ bytes: [UInt8]) -> String? {
        guard !bytes.isEmpty, bytes.count <= 64 else { return nil }
        for byte in bytes {
            guard byte > 0x20, byte < 0x7F else { return nil }
            switch byte {
            case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "{"), UInt8(ascii: "%"), UInt8(ascii: "*"),
                UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "+"):
                return nil
            default: continue
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The tag of the command at the front of the buffer, if it has a valid one followed by a space within its
    /// first min(65, maxLine + 1) bytes. An overlong line is found once more than `maxLine` of its bytes
    /// arrived, so this looks at bytes that are there however the input was chunked: a tag longer than that
    /// window (or one not yet ended by a space) is no tag, in every chunking.
    private var leadingTag: String? {
        let window = buffer[0..<min(buffer.count, 65, maxLine + 1)]
        guard let space = window.firstIndex(of: 32) else { return nil }
        return IMAPCommandReader.validTag(Array(window[..<space]))
    }

    static func parse(bytes: [UInt8], segments: [Range<Int>]) -> Event {
        var tokenizer = IMAPTokenizer(bytes: bytes, segments: segments)
        guard let tagBytes = tokenizer.word(), let tag = validTag(tagBytes) else {
            return .bad(tag: nil, reason: "Invalid tag")
        }
        guard tokenizer.space(), let nameBytes = tokenizer.word(), !nameBytes.isEmpty,
            nameBytes.allSatisfy({ ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == UInt8(ascii: "-") })
        else {
            return .bad(tag: tag, reason: "Invalid command")
        }
        let name = String(decoding: nameBytes, as: UTF8.self).uppercased()
        var arguments: [IMAPArgument] = []
        while !tokenizer.atEnd {
            guard tokenizer.space() else { return .bad(tag: tag, reason: "Expected a space") }
            switch tokenizer.argument(depth: 0) {
            case .success(let argument): arguments.append(argument)
            case .failure(let error): return .bad(tag: tag, reason: error.reason)
            }
        }
        return .command(IMAPCommand(tag: tag, name: name, arguments: arguments))
    }
}
