/// Walks the framed segments of one command: atoms, quoted strings, literals and lists (ManageSieve
/// commands use the same tokens).
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
            // A literal header must be the rest of the line; its data is the next segment.
            let rest = bytes[position..<lineEnd]
            guard IMAPCommandReader.literalHeader(rest) != nil, rest.lastIndex(of: UInt8(ascii: "{")) == position,
                segment + 2 < segments.count
            else { return .failure(IMAPParseError(reason: "Invalid literal")) }
            let data = Array(bytes[segments[segment + 1]])
            // A literal (not literal8) may not carry NUL (RFC 9051 CHAR8).
            guard !data.contains(0) else { return .failure(IMAPParseError(reason: "NUL in literal")) }
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

/// Why a command's arguments could not be parsed; the reason is the text of the refusal.
struct IMAPParseError: Error {
    var reason: String
}
