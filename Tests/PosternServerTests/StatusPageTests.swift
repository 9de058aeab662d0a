import Foundation
import PosternAdmin
import PosternTLS
import XCTest

@testable import PosternServer

/// The status page: its routes, its headers, its CSP hashes and what its script may not do.
final class StatusPageTests: XCTestCase {
    private struct Incomplete: Error {}

    private func request(_ method: AdminHTTPMethod, _ target: String, headers: String = "") throws -> AdminHTTPRequest {
        var parser = AdminHTTPRequestParser()
        let head = "\(method.rawValue) \(target) HTTP/1.1\r\nHost: admin:8080\r\n\(headers)Content-Length: 0\r\n\r\n"
        guard case .complete(let request) = try parser.feed(Array(head.utf8)) else { throw Incomplete() }
        return request
    }

    private var html: String { String(decoding: StatusPage.html, as: UTF8.self) }

    /// The text of the one `<tag>` element of the page.
    private func inline(_ tag: String) throws -> String {
        let parts = html.components(separatedBy: "<\(tag)>")
        XCTAssertEqual(parts.count, 2, "one <\(tag)> element")
        return try XCTUnwrap(parts.last?.components(separatedBy: "</\(tag)>").first)
    }

    func testTheRoutes() throws {
        for method in [AdminHTTPMethod.get, .head] {
            XCTAssertEqual(try AdminRouter.route(request(method, "/")).get(), .statusPage)
            XCTAssertEqual(try AdminRouter.route(request(method, "/status")).get(), .statusPage)
            XCTAssertEqual(try AdminRouter.route(request(method, "/status.json")).get(), .status)
        }
        guard case .failure(let refusal) = AdminRouter.route(try request(.post, "/status.json")) else {
            return XCTFail("POST /status.json was routed")
        }
        XCTAssertEqual(refusal.response.status, .methodNotAllowed)
        XCTAssertTrue(AdminRoute.statusPage.isPublic, "the page holds no data")
        XCTAssertFalse(AdminRoute.status.isPublic, "its data needs the token (or a loopback listener)")
        XCTAssertEqual(
            AdminAccess.decide(route: .status, token: nil, presented: nil, loopback: false), .forbidden)
    }

    func testTheHeaders() {
        let response = StatusPage.response
        XCTAssertEqual(response.status, .ok)
        XCTAssertEqual(response.contentType, "text/html; charset=utf-8")
        let headers = Dictionary(response.headers.map { ($0.name, $0.value) }) { first, _ in first }
        XCTAssertEqual(headers["X-Frame-Options"], "DENY")
        XCTAssertEqual(headers["Content-Security-Policy"], StatusPage.contentSecurityPolicy)
        let wire = String(decoding: response.serialized(for: .get), as: UTF8.self)
        XCTAssertTrue(wire.contains("\r\nCache-Control: no-store\r\n"), wire)
    }

    func testTheCSPAllowsExactlyThePagesInlineScriptAndStyleByHash() throws {
        let csp = StatusPage.contentSecurityPolicy
        for (directive, text) in [("script-src", try inline("script")), ("style-src", try inline("style"))] {
            let digest = Data(SHA256Digest.hash(Array(text.utf8))).base64EncodedString()
            XCTAssertTrue(csp.contains("\(directive) 'sha256-\(digest)';"), "\(directive) in \(csp)")
        }
        XCTAssertEqual(try inline("script"), StatusPageScript.source)
        XCTAssertEqual(try inline("style"), StatusPageStyle.source)
        XCTAssertTrue(csp.hasPrefix("default-src 'none'; "))
        XCTAssertTrue(csp.contains("frame-ancestors 'none'"))
        XCTAssertFalse(csp.contains("unsafe"))
        XCTAssertEqual(StatusPage.hashSource("abc"), "'sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0='")
    }

    func testThePageIsSelfContainedAndInsertsNoHTML() {
        let withoutNamespace = html.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "")
        XCTAssertFalse(withoutNamespace.contains("http:") || withoutNamespace.contains("https:"), "nothing fetched")
        XCTAssertFalse(html.contains("src="), "no external script, image or frame")
        for sink in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"] {
            XCTAssertFalse(StatusPageScript.source.contains(sink), sink)
        }
        XCTAssertFalse(html.contains(/\s(style|on[a-z]+)\s*=/), "no inline attribute the CSP would block")
        XCTAssertFalse(StatusPageScript.source.contains("localStorage"), "the token stays in sessionStorage")
        XCTAssertLessThan(StatusPage.html.count, 64 * 1024, "the page stays small")
    }

    func testCrossSitePostsAreRefused() throws {
        XCTAssertFalse(AdminOriginCheck.isCrossSite(try request(.post, "/sessions/kick")), "curl sends no Origin")
        XCTAssertFalse(
            AdminOriginCheck.isCrossSite(
                try request(
                    .post, "/sessions/kick", headers: "Origin: http://admin:8080\r\nSec-Fetch-Site: same-origin\r\n")))
        XCTAssertTrue(
            AdminOriginCheck.isCrossSite(
                try request(.post, "/sessions/kick", headers: "Origin: http://evil.example\r\n")))
        XCTAssertTrue(AdminOriginCheck.isCrossSite(try request(.post, "/sessions/kick", headers: "Origin: null\r\n")))
        XCTAssertTrue(
            AdminOriginCheck.isCrossSite(
                try request(.post, "/backends/drain", headers: "Sec-Fetch-Site: cross-site\r\n")))
        XCTAssertEqual(AdminOriginCheck.refusal.status, .forbidden)
    }
}
