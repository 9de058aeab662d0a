/// An admin answer: status, headers and body, serialised as HTTP/1.1 with `Content-Length` and
/// `Connection: close` (the admin API answers one request per connection).
public struct AdminHTTPResponse: Sendable, Equatable {
    public var status: AdminHTTPStatus
    /// Extra headers (`Content-Type` is separate; `Content-Length`, `Connection` and `Cache-Control` are added).
    public var headers: [(name: String, value: String)]
    public var contentType: String
    public var body: [UInt8]

    public init(
        status: AdminHTTPStatus, contentType: String = "text/plain; charset=utf-8", body: [UInt8] = [],
        headers: [(name: String, value: String)] = []
    ) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.headers = headers
    }

    /// A plain-text answer.
    public static func text(_ status: AdminHTTPStatus, _ text: String) -> AdminHTTPResponse {
        AdminHTTPResponse(status: status, body: Array(text.utf8))
    }

    /// A JSON answer (the body already encoded).
    public static func json(_ status: AdminHTTPStatus, _ body: [UInt8]) -> AdminHTTPResponse {
        AdminHTTPResponse(status: status, contentType: "application/json", body: body)
    }

    /// The bytes to write. For `HEAD` the headers are those of the `GET` answer (its `Content-Length`
    /// included) and the body is left out. Header names keep only token characters and control
    /// characters in values become spaces, so no header can split the response.
    public func serialized(for method: AdminHTTPMethod?) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(160 + body.count)
        out.append(contentsOf: "HTTP/1.1 \(status.code) ".utf8)
        appendValue(status.reason, to: &out)
        out.append(contentsOf: "\r\n".utf8)
        var all: [(name: String, value: String)] = [
            ("Content-Type", contentType), ("Content-Length", String(body.count)), ("Connection", "close"),
            ("Cache-Control", "no-store"),
        ]
        all.append(contentsOf: headers)
        for header in all {
            for byte in header.name.utf8 where AdminHTTPRequestParser.isTokenByte(byte) { out.append(byte) }
            out.append(contentsOf: ": ".utf8)
            appendValue(header.value, to: &out)
            out.append(contentsOf: "\r\n".utf8)
        }
        out.append(contentsOf: "\r\n".utf8)
        if method != .head { out.append(contentsOf: body) }
        return out
    }

    private func appendValue(_ value: String, to out: inout [UInt8]) {
        for byte in value.utf8 { out.append(byte < 0x20 || byte == 0x7F ? UInt8(ascii: " ") : byte) }
    }

    public static func == (lhs: AdminHTTPResponse, rhs: AdminHTTPResponse) -> Bool {
        lhs.status == rhs.status && lhs.contentType == rhs.contentType && lhs.body == rhs.body
            && lhs.headers.count == rhs.headers.count
            && zip(lhs.headers, rhs.headers).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }
}
