import PosternAdmin
import XCTest

@testable import PosternServer

/// Paths, methods and parameters of the admin API.
final class AdminRouterTests: XCTestCase {
    private struct Incomplete: Error {}

    private func request(_ method: AdminHTTPMethod, _ target: String, body: String = "") throws -> AdminHTTPRequest {
        var parser = AdminHTTPRequestParser()
        let head =
            "\(method.rawValue) \(target) HTTP/1.1\r\nHost: admin\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        guard case .complete(let request) = try parser.feed(Array(head.utf8)) else { throw Incomplete() }
        return request
    }

    private func route(_ method: AdminHTTPMethod, _ target: String, body: String = "") throws -> AdminRoute? {
        try AdminRouter.route(request(method, target, body: body)).get()
    }

    private func refusal(_ method: AdminHTTPMethod, _ target: String, body: String = "") throws -> AdminHTTPResponse? {
        guard case .failure(let refusal) = AdminRouter.route(try request(method, target, body: body)) else {
            return nil
        }
        return refusal.response
    }

    func testReadRoutesTakeGetAndHead() throws {
        for method in [AdminHTTPMethod.get, .head] {
            XCTAssertEqual(try route(method, "/healthz"), .healthz)
            XCTAssertEqual(try route(method, "/readyz"), .readyz)
            XCTAssertEqual(try route(method, "/health"), .health)
            XCTAssertEqual(try route(method, "/metrics"), .metrics)
            XCTAssertEqual(try route(method, "/backends"), .backends)
            XCTAssertEqual(try route(method, "/sessions"), .sessions(SessionFilter()))
        }
        let post = try refusal(.post, "/readyz")
        XCTAssertEqual(post?.status, .methodNotAllowed)
        XCTAssertEqual(post?.headers.first { $0.name == "Allow" }?.value, "GET, HEAD")
    }

    func testSessionFiltersAndKickParametersFromTheQueryOrTheForm() throws {
        XCTAssertEqual(
            try route(.get, "/sessions?user=alice%40example.org&backend=10.0.0.1:143"),
            .sessions(SessionFilter(user: "alice@example.org", backend: "10.0.0.1:143")))
        XCTAssertEqual(try route(.post, "/sessions/kick", body: "user=bob"), .kick(SessionFilter(user: "bob")))
        XCTAssertEqual(try route(.post, "/sessions/kick?id=3k", body: ""), .kick(SessionFilter(id: "3k")))
        XCTAssertEqual(try refusal(.post, "/sessions/kick")?.status, .badRequest, "a kick names what it ends")
        XCTAssertEqual(try refusal(.post, "/sessions/kick", body: "usr=bob")?.status, .badRequest)
        XCTAssertEqual(try refusal(.post, "/sessions/kick", body: "user=a&user=b")?.status, .badRequest)
        XCTAssertEqual(try refusal(.post, "/sessions/kick", body: "user=")?.status, .badRequest)
        XCTAssertEqual(try refusal(.get, "/sessions?id=1")?.status, .badRequest, "no id filter on the list")
        XCTAssertEqual(try refusal(.get, "/sessions/kick?user=bob")?.status, .methodNotAllowed)
        XCTAssertEqual(try refusal(.post, "/sessions/kick", body: "user=%zz")?.status, .badRequest)
    }

    func testDrainNormalisesTheBackend() throws {
        XCTAssertEqual(
            try route(.post, "/backends/drain", body: "backend=IMAP1.Example:143"), .drain("imap1.example:143"))
        XCTAssertEqual(try route(.post, "/backends/undrain", body: "backend=[::1]:143"), .undrain("[::1]:143"))
        XCTAssertEqual(try refusal(.post, "/backends/drain?backend=::1")?.status, .badRequest, "no port")
        XCTAssertEqual(try refusal(.post, "/backends/drain", body: "backend=host")?.status, .badRequest)
        XCTAssertEqual(try refusal(.post, "/backends/drain")?.status, .badRequest)
        XCTAssertEqual(try refusal(.get, "/backends/drain?backend=a:1")?.status, .methodNotAllowed)
    }

    func testUnknownPathsAre404() throws {
        XCTAssertEqual(try refusal(.get, "/nowhere")?.status, .notFound)
        XCTAssertEqual(try refusal(.get, "/status/")?.status, .notFound)
        XCTAssertEqual(try refusal(.get, "/sessions/")?.status, .notFound)
    }
}
