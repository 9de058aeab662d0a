/// Why a request head or body was refused; each maps to the status the client gets. No case carries
/// request bytes, so an error can be logged or answered without echoing what the client sent.
public enum AdminHTTPError: Error, Sendable, Equatable {
    /// The request line is not `METHOD SP /target SP HTTP/x.y` (400).
    case malformedRequestLine
    /// The target is not an origin-form path (`/...`, visible ASCII, no fragment) (400).
    case invalidTarget
    /// A query or form parameter has a bad `%` escape or is not UTF-8 once decoded (400).
    case invalidQuery
    /// A line ends in a bare LF or CR (400).
    case bareLineEnding
    /// The head holds a NUL byte (400).
    case nulByte
    /// A header line is not `name: value` with a token name and no control characters (400).
    case invalidHeader
    /// A header line starts with a space or tab (obsolete line folding) (400).
    case obsoleteLineFolding
    /// An HTTP/1.1 request without a `Host` header, or with more than one (400).
    case invalidHost
    /// `Content-Length` is not a number, or is given twice (400).
    case invalidContentLength
    /// The method is a valid token but not GET, HEAD or POST (405).
    case methodNotAllowed
    /// The body is larger than the limit (413).
    case bodyTooLarge
    /// The head is larger than the limit (431).
    case headTooLarge
    /// More header fields than the limit (431).
    case tooManyHeaders
    /// `Transfer-Encoding` was sent; only `Content-Length` bodies are read (501).
    case transferEncodingNotSupported
    /// `HTTP/x.y` other than 1.0 and 1.1 (505).
    case versionNotSupported

    /// The status the client gets.
    public var status: AdminHTTPStatus {
        switch self {
        case .malformedRequestLine, .invalidTarget, .invalidQuery, .bareLineEnding, .nulByte, .invalidHeader,
            .obsoleteLineFolding, .invalidHost, .invalidContentLength:
            .badRequest
        case .methodNotAllowed: .methodNotAllowed
        case .bodyTooLarge: .contentTooLarge
        case .headTooLarge, .tooManyHeaders: .headerFieldsTooLarge
        case .transferEncodingNotSupported: .notImplemented
        case .versionNotSupported: .versionNotSupported
        }
    }

    /// A short fixed explanation for the response body.
    public var explanation: String {
        switch self {
        case .malformedRequestLine: "malformed request line"
        case .invalidTarget: "invalid request target"
        case .invalidQuery: "invalid query or form encoding"
        case .bareLineEnding: "lines must end in CRLF"
        case .nulByte: "NUL byte in the request head"
        case .invalidHeader: "invalid header field"
        case .obsoleteLineFolding: "obsolete line folding is not accepted"
        case .invalidHost: "exactly one Host header is required"
        case .invalidContentLength: "invalid Content-Length"
        case .methodNotAllowed: "only GET, HEAD and POST"
        case .bodyTooLarge: "request body too large"
        case .headTooLarge: "request head too large"
        case .tooManyHeaders: "too many header fields"
        case .transferEncodingNotSupported: "Transfer-Encoding is not supported; send Content-Length"
        case .versionNotSupported: "only HTTP/1.0 and HTTP/1.1"
        }
    }

    /// The whole answer: the status, the explanation as text, and `Allow` for 405.
    public var response: AdminHTTPResponse {
        var response = AdminHTTPResponse.text(status, explanation + "\n")
        if self == .methodNotAllowed { response.headers.append((name: "Allow", value: "GET, HEAD, POST")) }
        return response
    }
}
