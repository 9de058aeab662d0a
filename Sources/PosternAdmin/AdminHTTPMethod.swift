/// The request methods the admin API answers; any other method is refused with 405.
public enum AdminHTTPMethod: String, Sendable, CaseIterable {
    case get = "GET"
    case head = "HEAD"
    case post = "POST"
}
