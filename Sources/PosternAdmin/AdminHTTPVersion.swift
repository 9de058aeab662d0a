/// The HTTP versions the admin API accepts; any other `HTTP/x.y` is refused with 505.
public enum AdminHTTPVersion: String, Sendable {
    case http10 = "HTTP/1.0"
    case http11 = "HTTP/1.1"
}
