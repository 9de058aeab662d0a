/// An HTTP status code and its reason phrase, for admin responses and parse errors.
public struct AdminHTTPStatus: Sendable, Equatable {
    public var code: Int
    public var reason: String

    public init(code: Int, reason: String) {
        self.code = code
        self.reason = reason
    }

    public static let ok = AdminHTTPStatus(code: 200, reason: "OK")
    public static let accepted = AdminHTTPStatus(code: 202, reason: "Accepted")
    public static let badRequest = AdminHTTPStatus(code: 400, reason: "Bad Request")
    public static let unauthorized = AdminHTTPStatus(code: 401, reason: "Unauthorized")
    public static let forbidden = AdminHTTPStatus(code: 403, reason: "Forbidden")
    public static let notFound = AdminHTTPStatus(code: 404, reason: "Not Found")
    public static let methodNotAllowed = AdminHTTPStatus(code: 405, reason: "Method Not Allowed")
    public static let requestTimeout = AdminHTTPStatus(code: 408, reason: "Request Timeout")
    public static let contentTooLarge = AdminHTTPStatus(code: 413, reason: "Content Too Large")
    public static let headerFieldsTooLarge = AdminHTTPStatus(code: 431, reason: "Request Header Fields Too Large")
    public static let internalServerError = AdminHTTPStatus(code: 500, reason: "Internal Server Error")
    public static let notImplemented = AdminHTTPStatus(code: 501, reason: "Not Implemented")
    public static let serviceUnavailable = AdminHTTPStatus(code: 503, reason: "Service Unavailable")
    public static let versionNotSupported = AdminHTTPStatus(code: 505, reason: "HTTP Version Not Supported")
}
