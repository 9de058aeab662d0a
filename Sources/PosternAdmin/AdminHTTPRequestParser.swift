/// Reads one HTTP/1.1 request from a connection's bytes, as they arrive, within `AdminHTTPLimits`.
/// Strict where leniency lets requests be smuggled: lines end in CRLF, one `Content-Length` and no
/// `Transfer-Encoding`, no obsolete line folding, token header names. Bytes after the request are counted
/// in `trailingBytes` and otherwise ignored: the admin API answers one request and closes.
public struct AdminHTTPRequestParser: Sendable {
    /// How far a request has come.
    public enum Progress: Sendable, Equatable {
        /// The head is not complete yet.
        case needMore
        /// The head is complete and valid; the body is still arriving. `expectsContinue` is true when the
        /// client sent `Expect: 100-continue` (it waits for `HTTP/1.1 100 Continue` before the body).
        case needBody(expectsContinue: Bool)
        /// The whole request.
        case complete(AdminHTTPRequest)
    }

    /// Where the head scan is: where the head starts (after empty lines), where the current line starts,
    /// how far the bytes were checked, and whether the request line was seen.
    private struct HeadScan {
        var start = 0
        var lineStart = 0
        var scanned = 0
        var sawRequestLine = false
    }

    private enum State {
        case head(HeadScan)
        case body(AdminHTTPRequest, start: Int, length: Int, expectsContinue: Bool)
        case complete(AdminHTTPRequest)
        case failed(AdminHTTPError)
    }

    public let limits: AdminHTTPLimits
    private var buffer: [UInt8] = []
    private var state = State.head(HeadScan())
    /// Bytes received after the complete request (pipelined requests or garbage); never parsed.
    public private(set) var trailingBytes = 0

    public init(limits: AdminHTTPLimits = AdminHTTPLimits()) {
        self.limits = limits
    }

    /// Adds received bytes and says how far the request has come. Once it has failed, every later call
    /// throws the same error; once it is complete, later bytes only count as `trailingBytes`.
    public mutating func feed(_ bytes: some Collection<UInt8>) throws(AdminHTTPError) -> Progress {
        switch state {
        case .failed(let error): throw error
        case .complete(let request):
            trailingBytes += bytes.count
            return .complete(request)
        case .head, .body: buffer.append(contentsOf: bytes)
        }
        do {
            return try advance()
        } catch {
            state = .failed(error)
            buffer = []
            throw error
        }
    }

    private mutating func advance() throws(AdminHTTPError) -> Progress {
        if case .head(var scan) = state {
            guard let headEnd = try scanHead(&scan) else {
                state = .head(scan)
                if buffer.count > limits.headBytes { throw .headTooLarge }
                return .needMore
            }
            if headEnd > limits.headBytes { throw .headTooLarge }
            let (request, length, expectsContinue) = try parseHead(buffer[scan.start..<(headEnd - 2)])
            state = .body(request, start: headEnd, length: length, expectsContinue: expectsContinue)
        }
        guard case .body(var request, let start, let length, let expectsContinue) = state else { return .needMore }
        guard buffer.count - start >= length else { return .needBody(expectsContinue: expectsContinue) }
        request.body = Array(buffer[start..<(start + length)])
        trailingBytes = buffer.count - start - length
        buffer = []
        state = .complete(request)
        return .complete(request)
    }

    /// Checks the new bytes line by line; returns the index just past the blank line that ends the head.
    /// Bytes past `limits.headBytes` are never scanned, so that the answer (an error, or the head too large)
    /// is the same however the bytes were split into reads.
    private func scanHead(_ scan: inout HeadScan) throws(AdminHTTPError) -> Int? {
        var index = scan.scanned
        defer { scan.scanned = index }
        while index < min(buffer.count, limits.headBytes) {
            switch buffer[index] {
            case 0: throw .nulByte
            case 0x0D:
                guard index + 1 < buffer.count else { return nil }
                guard buffer[index + 1] == 0x0A else { throw .bareLineEnding }
            case 0x0A:
                guard index > 0, buffer[index - 1] == 0x0D else { throw .bareLineEnding }
                let line = buffer[scan.lineStart..<(index - 1)]
                scan.lineStart = index + 1
                if line.isEmpty {
                    guard scan.sawRequestLine else {
                        scan.start = index + 1  // an empty line before the request line is ignored (RFC 9112 2.2)
                        break
                    }
                    index += 1
                    return index
                }
                if !scan.sawRequestLine {
                    _ = try Self.parseRequestLine(line)
                    scan.sawRequestLine = true
                }
            default: break
            }
            index += 1
        }
        return nil
    }

    /// Parses the head (without its final CRLF): the request, the body length, whether to send 100 Continue.
    private func parseHead(_ head: ArraySlice<UInt8>) throws(AdminHTTPError) -> (AdminHTTPRequest, Int, Bool) {
        // `head` is `LINE CRLF LINE CRLF ...`: the piece after the last LF is empty, each line ends in CR.
        var lines = head.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast().map { $0.dropLast() }
        let (method, target, version) = try Self.parseRequestLine(lines.removeFirst())
        guard lines.count <= limits.headers else { throw .tooManyHeaders }
        var headers = AdminHTTPHeaders()
        for line in lines {
            let (name, value) = try Self.parseHeader(line)
            headers.append(name: name, value: value)
        }
        let hosts = headers.values("host")
        if hosts.count > 1 || (version == .http11 && hosts.isEmpty) { throw .invalidHost }
        if !headers.values("transfer-encoding").isEmpty { throw .transferEncodingNotSupported }
        let length = try contentLength(headers.values("content-length"))
        let question = target.firstIndex(of: UInt8(ascii: "?"))
        let path = String(decoding: target[..<(question ?? target.endIndex)], as: UTF8.self)
        let query = try question.map { (index) throws(AdminHTTPError) in
            try AdminQueryItem.parse(target[(index + 1)...])
        }
        let request = AdminHTTPRequest(
            method: method, target: String(decoding: target, as: UTF8.self), path: path, query: query ?? [],
            version: version, headers: headers, body: [])
        let expectsContinue = headers["expect"]?.lowercased() == "100-continue"
        return (request, length, expectsContinue)
    }

    private func contentLength(_ values: [String]) throws(AdminHTTPError) -> Int {
        guard let value = values.first else { return 0 }
        guard values.count == 1, !value.isEmpty, value.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
            throw .invalidContentLength
        }
        guard value.utf8.count <= 18, let length = Int(value), length <= limits.bodyBytes else { throw .bodyTooLarge }
        return length
    }

    /// `METHOD SP /target SP HTTP/1.x`, checked for syntax (400), then version (505), then method (405).
    private static func parseRequestLine(_ line: ArraySlice<UInt8>) throws(AdminHTTPError) -> (
        AdminHTTPMethod, ArraySlice<UInt8>, AdminHTTPVersion
    ) {
        let parts = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, parts[0].allSatisfy(isTokenByte) else { throw .malformedRequestLine }
        let target = parts[1]
        guard target.first == UInt8(ascii: "/"),
            target.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "#") })
        else { throw .invalidTarget }
        let versionText = String(decoding: parts[2], as: UTF8.self)
        guard let version = AdminHTTPVersion(rawValue: versionText) else {
            let digits = Array(parts[2].dropFirst(5))
            let isVersion =
                versionText.hasPrefix("HTTP/") && digits.count == 3 && digits[1] == UInt8(ascii: ".")
                && (0x30...0x39).contains(digits[0]) && (0x30...0x39).contains(digits[2])
            throw isVersion ? .versionNotSupported : .malformedRequestLine
        }
        guard let method = AdminHTTPMethod(rawValue: String(decoding: parts[0], as: UTF8.self)) else {
            throw .methodNotAllowed
        }
        return (method, target, version)
    }

    /// `name: value`: a token name right before the colon, the value without surrounding spaces and tabs,
    /// no control characters but tab.
    private static func parseHeader(_ line: ArraySlice<UInt8>) throws(AdminHTTPError) -> (String, String) {
        if line.first == UInt8(ascii: " ") || line.first == 0x09 { throw .obsoleteLineFolding }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex,
            line[..<colon].allSatisfy(isTokenByte)
        else { throw .invalidHeader }
        let isSpace = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == 0x09 }
        var value = line[(colon + 1)...].drop(while: isSpace)
        while let last = value.last, isSpace(last) { value = value.dropLast() }
        guard value.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else { throw .invalidHeader }
        return (String(decoding: line[..<colon], as: UTF8.self), String(decoding: value, as: UTF8.self))
    }

    /// RFC 9110 `tchar`.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default: "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}
