/// A ManageSieve command before login: its name (upper-cased) and arguments.
public struct SieveCommand: Sendable, Equatable {
    public var name: String
    public var arguments: [IMAPArgument]
}

/// Frames a ManageSieve client's byte stream (RFC 5804) into logical lines: a line with the literals it
/// carries. Client literals are `{n+}` (and `{n}`, accepted alike: ManageSieve has no continuation, the
/// data follows at once). Strings and atoms are those of IMAP, so the IMAP tokenizer parses them.
///
/// Bounds as for IMAP: a line or literal may hold `maxLine` bytes, a whole logical line 4 × `maxLine`, with
/// at most `IMAPCommandReader.maxLiterals` literals. An overlong line is reported once (`.tooLong`) and dropped
/// to its end; a literal over the bound is `.unrecoverable`, since its data is already on the way.
public struct SieveCommandReader: FrontEndReader, Sendable {
    public enum Event: Sendable, Equatable {
        /// A logical line: `segments` are ranges of `bytes`, line text and literal data alternating.
        case line(bytes: [UInt8], segments: [Range<Int>])
        /// A line exceeded its bound; the reader now drops bytes until the line ends.
        case tooLong
        /// The stream cannot be resynchronised; the reader takes no more input.
        case unrecoverable(String)
    }

    public let maxLine: Int
    private var buffer = ReadBuffer()
    private var discarding = false
    private var failed = false
    /// Framing progress of the logical line at the front of `buffer`.
    private var segments: [Range<Int>] = []
    private var position = 0
    /// `buffer[position..<scanned]` holds no LF.
    private var scanned = 0
    /// Bytes dropped in the current overlong line.
    public private(set) var discardedBytes = 0

    public init(maxLine: Int) { self.maxLine = maxLine }

    public var maxCommand: Int { 4 * maxLine }
    public var bufferedCount: Int { buffer.count }

    public mutating func append(_ bytes: [UInt8]) {
        if failed { return }
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

    /// Removes and returns everything buffered.
    public mutating func takeBuffered() -> [UInt8] {
        let all = buffer.bytes(0..<buffer.count)
        consume(buffer.count)
        return all
    }

    /// The next event, or nil if more bytes are needed.
    public mutating func next() -> Event? {
        if discarding || failed { return nil }
        while true {
            guard let lf = buffer.firstLF(from: max(position, scanned)) else {
                scanned = buffer.count
                if buffer.count - position > maxLine || buffer.count > maxCommand { return tooLong() }
                return nil
            }
            scanned = lf
            if lf - position > maxLine || lf + 1 > maxCommand { return tooLong() }
            let lineEnd = lf > position && buffer[lf - 1] == 13 ? lf - 1 : lf
            guard let literal = IMAPCommandReader.literalHeader(buffer[position..<lineEnd]) else {
                let event = Event.line(bytes: buffer.bytes(0..<lf), segments: segments + [position..<lineEnd])
                consume(lf + 1)
                discardedBytes = 0
                return event
            }
            let dataStart = lf + 1
            guard literal.size <= maxLine, dataStart + literal.size <= maxCommand else {
                return fail("Literal too large")
            }
            guard segments.count / 2 < IMAPCommandReader.maxLiterals else { return fail("Too many literals") }
            guard buffer.count >= dataStart + literal.size else { return nil }
            segments += [position..<lineEnd, dataStart..<dataStart + literal.size]
            position = dataStart + literal.size
            scanned = position
        }
    }

    private mutating func consume(_ count: Int) {
        buffer.consume(count)
        segments = []
        position = 0
        scanned = 0
    }

    private mutating func fail(_ reason: String) -> Event {
        failed = true
        consume(buffer.count)
        return .unrecoverable(reason)
    }

    /// Drops the logical line through the end of its overlong line.
    private mutating func tooLong() -> Event {
        if let lf = buffer.firstLF(from: max(position, scanned)) {
            discardedBytes = lf + 1
            consume(lf + 1)
        } else {
            discardedBytes = buffer.count
            consume(buffer.count)
            discarding = true
        }
        return .tooLong
    }

    /// Parses a logical line as a command: an atom, then strings, numbers or atoms separated by spaces.
    static func parseCommand(bytes: [UInt8], segments: [Range<Int>]) -> Result<SieveCommand, IMAPParseError> {
        var tokenizer = IMAPTokenizer(bytes: bytes, segments: segments)
        guard let nameBytes = tokenizer.word(), !nameBytes.isEmpty,
            nameBytes.allSatisfy({ ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) })
        else { return .failure(IMAPParseError(reason: "Invalid command")) }
        var arguments: [IMAPArgument] = []
        while !tokenizer.atEnd {
            guard tokenizer.space() else { return .failure(IMAPParseError(reason: "Expected a space")) }
            switch tokenizer.argument(depth: 0) {
            case .success(.list): return .failure(IMAPParseError(reason: "Unexpected list"))
            case .success(let argument): arguments.append(argument)
            case .failure(let error): return .failure(error)
            }
        }
        return .success(
            SieveCommand(name: String(decoding: nameBytes, as: UTF8.self).uppercased(), arguments: arguments))
    }

    /// Parses a logical line that must hold one string (a SASL response); an atom is taken too.
    static func parseString(bytes: [UInt8], segments: [Range<Int>]) -> [UInt8]? {
        var tokenizer = IMAPTokenizer(bytes: bytes, segments: segments)
        guard case .success(let argument) = tokenizer.argument(depth: 0), tokenizer.atEnd else { return nil }
        return argument.astring
    }
}

/// Quoting for ManageSieve responses.
enum SieveText {
    /// `text` as a quoted string: `"` and `\` escaped, line breaks replaced by spaces.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for character in text {
            switch character {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\r", "\n", "\r\n": out += " "
            default: out.append(character)
            }
        }
        return out + "\""
    }
}
