/// Bounds on one admin request: the head (request line and headers), the body, the number of headers.
public struct AdminHTTPLimits: Sendable, Equatable {
    /// Request line plus headers plus the blank line, in bytes (default 8 KiB).
    public var headBytes: Int
    /// The body (`Content-Length`), in bytes (default 64 KiB).
    public var bodyBytes: Int
    /// Header fields (default 64).
    public var headers: Int

    public init(headBytes: Int = 8192, bodyBytes: Int = 65_536, headers: Int = 64) {
        self.headBytes = headBytes
        self.bodyBytes = bodyBytes
        self.headers = headers
    }
}
