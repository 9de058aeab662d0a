import PosternAdmin
import XCTest

/// The response builder: exact bytes, HEAD without a body, no header can split the response.
final class AdminHTTPResponseTests: XCTestCase {
    func testATextResponseIsSerialisedWithLengthAndClose() {
        let response = AdminHTTPResponse.text(.ok, "ok\n")
        XCTAssertEqual(
            String(decoding: response.serialized(for: .get), as: UTF8.self),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 3\r\n"
                + "Connection: close\r\nCache-Control: no-store\r\n\r\nok\n")
    }

    func testHeadKeepsTheHeadersAndDropsTheBody() {
        let response = AdminHTTPResponse.json(.serviceUnavailable, Array(#"{"ready":false}"#.utf8))
        XCTAssertEqual(
            String(decoding: response.serialized(for: .head), as: UTF8.self),
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: 15\r\n"
                + "Connection: close\r\nCache-Control: no-store\r\n\r\n")
    }

    func testHeadersCannotInjectLines() {
        var response = AdminHTTPResponse.text(.unauthorized, "")
        response.headers.append((name: "WWW-Authenticate\r\nX", value: "Bearer\r\nSet-Cookie: a=b"))
        let text = String(decoding: response.serialized(for: .get), as: UTF8.self)
        XCTAssertTrue(text.contains("\r\nWWW-AuthenticateX: Bearer  Set-Cookie: a=b\r\n\r\n"), text)
        XCTAssertEqual(text.components(separatedBy: "\r\n").count, 8)
    }

    func testEveryErrorMapsToItsStatus() {
        let expected: [(AdminHTTPError, Int)] = [
            (.malformedRequestLine, 400), (.invalidTarget, 400), (.invalidQuery, 400), (.bareLineEnding, 400),
            (.nulByte, 400), (.invalidHeader, 400), (.obsoleteLineFolding, 400), (.invalidHost, 400),
            (.invalidContentLength, 400), (.methodNotAllowed, 405), (.bodyTooLarge, 413), (.headTooLarge, 431),
            (.tooManyHeaders, 431), (.transferEncodingNotSupported, 501), (.versionNotSupported, 505),
        ]
        for (error, code) in expected {
            XCTAssertEqual(error.response.status.code, code, "\(error)")
            XCTAssertEqual(error.response.body, Array((error.explanation + "\n").utf8))
        }
    }
}
