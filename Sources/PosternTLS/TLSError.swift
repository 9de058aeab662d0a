/// An error from OpenSSL, with the error queue's text (or the verification failure) attached, and OpenSSL's
/// own reason so that callers can tell failures apart without parsing the text.
public struct TLSError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The whole text: what was being done, then every entry of OpenSSL's error queue.
    public var message: String
    /// OpenSSL's reason for the first entry of its error queue (`ERR_reason_error_string`), e.g.
    /// "wrong version number", "no shared cipher", "certificate verify failed"; nil when the error did not
    /// come from OpenSSL's queue.
    public var reason: String?
    /// The OpenSSL library that reported `reason` (`ERR_lib_error_string`), e.g. "SSL routines".
    public var library: String?

    public init(_ message: String, reason: String? = nil, library: String? = nil) {
        self.message = message
        self.reason = reason
        self.library = library
    }

    public var description: String { message }
}
