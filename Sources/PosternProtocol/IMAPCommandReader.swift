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
public struct IMAPCommandReader: Sendable {
    /// What the reader found next.
    public enum Event: Sendable, Equatable {
        case command(IMAPCommand)
        /// The client waits for `+` before sending a synchronizing literal.
        case continuationNeeded
        /// The command is malformed; the bytes up to its end were dropped. `tag` is nil if none could be read.
        case bad(tag: String?, reason: String)
        /// A line or literal exceeded the bound; the reader now drops bytes until the line ends.
        case tooLong(tag: String?)
    }

    public let maxLine: Int
    private(set) var buffer: [UInt8] = []
    private var continuationsSent = 0
    /// Dropping an overlong line until its CRLF.
    private var discarding = false
    /// Bytes dropped in the current overlong line.
    public private(set) var discardedBytes = 0

    public init(maxLine: Int) { self.maxLine = maxLine }

    /// Bytes waiting to be parsed.
    public var bufferedCount: Int { buffer.count }

    public mutating func append(_ bytes: [UInt8]) {
        if discarding {
            if let crlf = IMAPCommandReader.findLF(bytes, from: 0) {
                discarding = false
                discardedBytes += crlf + 1
                buffer.append(contentsOf: bytes[(crlf + 1)...])
            } else {
                discardedBytes += bytes.count
            }
        } else {
            buffer.append(contentsOf: bytes)
        }
    }

    /// Removes and returns everything buffered (pipelined bytes after a login, or bytes to discard).
    public mutating func takeBuffered() -> [UInt8] {
        defer {
            buffer = []
            continuationsSent = 0
        }
        return buffer
    }

    /// The next event, or nil if more bytes are needed.
    public mutating func next() -> Event? {
        if discarding { return nil }
        if discardedBytes > 0 && buffer.isEmpty { return nil }
        switch frame() {
        case .incomplete(let syncLiterals, let lineTooLong):
            if lineTooLong {
                let tag = IMAPCommandReader.leadingTag(buffer)
                startDiscarding()
                return .tooLong(tag: tag)
            }
            if syncLiterals > continuationsSent {
                continuationsSent = syncLiterals
                if let header = validateHeader() {
                    return header
                }
                return .continuationNeeded
            }
            return nil
        case .literalTooLarge(let end):
            let tag = IMAPCommandReader.leadingTag(buffer)
            // Drop what was framed so far; the client will not send a refused synchronizing literal,
            // and a too-large non-synchronizing one is answered by closing (the caller's policy).
            buffer.removeFirst(end)
            continuationsSent = 0
            return .tooLong(tag: tag)
        case .complete(let segments, let consumed):
            let bytes = Array(buffer[..<consumed])
            buffer.removeFirst(consumed)
            continuationsSent = 0
            discardedBytes = 0
            return IMAPCommandReader.parse(bytes: bytes, segments: segments)
        }
    }

    private mutating func startDiscarding() {
        if let lf = IMAPCommandReader.findLF(buffer, from: 0) {
            discardedBytes = lf + 1
            buffer.removeFirst(lf + 1)
        } else {
            discardedBytes = buffer.count
            buffer = []
            discarding = true
        }
        continuationsSent = 0
    }

    /// Before acknowledging a literal, the tag and command must look right.
    private mutating func validateHeader() -> Event? {
        guard let lf = IMAPCommandReader.findLF(buffer, from: 0) else { return nil }
        var line = Array(buffer[..<lf])
        if line.last == 13 { line.removeLast() }
        let words = line.split(separator: 32, maxSplits: 2, omittingEmptySubsequences: false)
        let tag = words.first.flatMap { IMAPCommandReader.validTag(Array($0)) }
        guard words.count >= 2, let tag else {
            buffer.removeFirst(lf + 1)
            continuationsSent = 0
            return .bad(tag: nil, reason: "Invalid tag")
        }
        let name = String(decoding: words[1], as: UTF8.self).uppercased()
        guard ["LOGIN", "ID", "AUTHENTICATE"].contains(name) else {
            buffer.removeFirst(lf + 1)
            continuationsSent = 0
            return .bad(tag: tag, reason: "Literal not allowed for this command")
        }
        return nil
    }

    enum Framing {
        /// `syncLiterals`: synchronizing literal headers seen whose data is not complete yet.
        case incomplete(syncLiterals: Int, lineTooLong: Bool)
        case literalTooLarge(end: Int)
        /// Segments: ranges of line text (without CRLF) and literal data, alternating, starting with text.
        case complete(segments: [Range<Int>], consumed: Int)
    }

    func frame() -> Framing {
        var segments: [Range<Int>] = []
        var position = 0
        var syncLiterals = 0
        while true {
            guard let lf = IMAPCommandReader.findLF(buffer, from: position) else {
                return .incomplete(syncLiterals: syncLiterals, lineTooLong: buffer.count - position > maxLine)
            }
            if lf - position > maxLine { return .incomplete(syncLiterals: syncLiterals, lineTooLong: true) }
            let lineEnd = lf > position && buffer[lf - 1] == 13 ? lf - 1 : lf
            segments.append(position..<lineEnd)
            guard let literal = IMAPCommandReader.literalHeader(buffer[position..<lineEnd]) else {
                return .complete(segments: segments, consumed: lf + 1)
            }
            if literal.size > maxLine { return .literalTooLarge(end: lf + 1) }
            if !literal.nonSync { syncLiterals += 1 }
            let dataStart = lf + 1
            if buffer.count < dataStart + literal.size {
                return .incomplete(syncLiterals: literal.nonSync ? syncLiterals - 0 : syncLiterals, lineTooLong: false)
            }
            segments.append(dataStart..<dataStart + literal.size)
            position = dataStart + literal.size
            if segments.count > 64 { return .literalTooLarge(end: position) }
        }
    }

    static func findLF(_ bytes: [UInt8], from start: Int) -> Int? {
        var index = start
        while index < bytes.count {
            if bytes[index] == 10 { return index }
            index += 1
        }
        return nil
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

    static func leadingTag(_ bytes: [UInt8]) -> String? {
        let end = bytes.firstIndex(of: 32) ?? min(bytes.count, 65)
        return validTag(Array(bytes[..<end]))
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

struct IMAPParseError: Error {
    var reason: String
}

/// Walks the framed segments of one command.
struct IMAPTokenizer {
    let bytes: [UInt8]
    let segments: [Range<Int>]
    var segment = 0
    var position: Int

    init(bytes: [UInt8], segments: [Range<Int>]) {
        self.bytes = bytes
        self.segments = segments
        self.position = segments.first?.lowerBound ?? 0
    }

    var lineEnd: Int { segments[segment].upperBound }
    var atEnd: Bool { segment == segments.count - 1 && position >= lineEnd }

    mutating func space() -> Bool {
        guard position < lineEnd, bytes[position] == 32 else { return false }
        position += 1
        return true
    }

    /// Bytes up to the next space or the end of the line.
    mutating func word() -> [UInt8]? {
        let start = position
        while position < lineEnd, bytes[position] != 32 { position += 1 }
        return position > start ? Array(bytes[start..<position]) : nil
    }

    mutating func argument(depth: Int) -> Result<IMAPArgument, IMAPParseError> {
        guard position < lineEnd else { return .failure(IMAPParseError(reason: "Missing argument")) }
        let first = bytes[position]
        if first == UInt8(ascii: "\"") { return quoted() }
        if first == UInt8(ascii: "(") {
            guard depth < 4 else { return .failure(IMAPParseError(reason: "Lists nested too deep")) }
            position += 1
            var items: [IMAPArgument] = []
            while true {
                guard position < lineEnd else { return .failure(IMAPParseError(reason: "Unterminated list")) }
                if bytes[position] == UInt8(ascii: ")") {
                    position += 1
                    return .success(.list(items))
                }
                if !items.isEmpty {
                    guard space() else { return .failure(IMAPParseError(reason: "Expected a space in list")) }
                }
                switch argument(depth: depth + 1) {
                case .success(let item): items.append(item)
                case .failure(let error): return .failure(error)
                }
            }
        }
        if first == UInt8(ascii: "{") {
            // A literal header must end the line; its data is the next segment.
            guard IMAPCommandReader.literalHeader(bytes[position..<lineEnd]) != nil,
                segment + 2 < segments.count
            else { return .failure(IMAPParseError(reason: "Invalid literal")) }
            let data = Array(bytes[segments[segment + 1]])
            segment += 2
            position = segments[segment].lowerBound
            return .success(.string(data))
        }
        let start = position
        while position < lineEnd {
            let byte = bytes[position]
            if byte == 32 || byte == UInt8(ascii: ")") { break }
            guard byte > 0x20, byte != 0x7F, byte != UInt8(ascii: "("), byte != UInt8(ascii: "{"),
                byte != UInt8(ascii: "\"")
            else { return .failure(IMAPParseError(reason: "Invalid character in atom")) }
            position += 1
        }
        guard position > start else { return .failure(IMAPParseError(reason: "Empty argument")) }
        return .success(.atom(String(decoding: bytes[start..<position], as: UTF8.self)))
    }

    mutating func quoted() -> Result<IMAPArgument, IMAPParseError> {
        position += 1
        var out: [UInt8] = []
        while position < lineEnd {
            let byte = bytes[position]
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                return .success(.string(out))
            case UInt8(ascii: "\\"):
                guard position < lineEnd,
                    bytes[position] == UInt8(ascii: "\"") || bytes[position] == UInt8(ascii: "\\")
                else { return .failure(IMAPParseError(reason: "Invalid escape in quoted string")) }
                out.append(bytes[position])
                position += 1
            case 0, 13, 10:
                return .failure(IMAPParseError(reason: "Invalid character in quoted string"))
            default:
                out.append(byte)
            }
        }
        return .failure(IMAPParseError(reason: "Unterminated quoted string"))
    }
}
