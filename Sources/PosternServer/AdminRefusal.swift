import PosternAdmin

/// An admin request that gets an error answer instead of its route (404, 405, 400): the answer to send.
struct AdminRefusal: Error, Sendable, Equatable {
    let response: AdminHTTPResponse

    init(_ response: AdminHTTPResponse) { self.response = response }

    /// A JSON error with `status`.
    init(_ status: AdminHTTPStatus, _ message: String) {
        response = .json(status, AdminJSON.encode(["error": message]))
    }
}
