import Foundation
import PosternAdmin
import PosternTLS

/// The status page of `GET /` and `GET /status`: one HTML document with its style and script inline, sent
/// with a Content-Security-Policy that allows only those two (by SHA-256, computed here from the embedded
/// text) and the page's own origin for its requests, and with framing refused.
enum StatusPage {
    /// The whole document.
    static let html: [UInt8] = Array(
        (StatusPageMarkup.head + "<style>" + StatusPageStyle.source + "</style>\n" + StatusPageMarkup.body
            + "\n<script>" + StatusPageScript.source + "</script>\n</body>\n</html>\n").utf8)

    /// `'sha256-BASE64'`: a CSP source that allows an inline element whose text is exactly `text`.
    static func hashSource(_ text: String) -> String {
        "'sha256-" + Data(SHA256Digest.hash(Array(text.utf8))).base64EncodedString() + "'"
    }

    static let contentSecurityPolicy =
        "default-src 'none'; script-src \(hashSource(StatusPageScript.source)); "
        + "style-src \(hashSource(StatusPageStyle.source)); connect-src 'self'; img-src data:; base-uri 'none'; "
        + "form-action 'none'; frame-ancestors 'none'"

    /// The answer (`Cache-Control: no-store` is on every admin answer).
    static var response: AdminHTTPResponse {
        AdminHTTPResponse(
            status: .ok, contentType: "text/html; charset=utf-8", body: html,
            headers: [
                ("Content-Security-Policy", contentSecurityPolicy), ("X-Frame-Options", "DENY"),
                ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer"),
            ])
    }
}
