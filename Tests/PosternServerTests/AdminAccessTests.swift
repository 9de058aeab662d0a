import PosternAdmin
import XCTest

@testable import PosternServer

/// Who may use which admin route: the probes and the scraper always; the rest with the token when one is
/// configured, else only on a loopback listener.
final class AdminAccessTests: XCTestCase {
    private let token = AdminToken(secret: "s3cret-token")!
    private let protected: [AdminRoute] = [
        .sessions(SessionFilter()), .kick(SessionFilter(user: "a")), .backends, .drain("a:1"), .undrain("a:1"),
    ]
    private let open: [AdminRoute] = [.healthz, .readyz, .health, .metrics]

    func testPublicRoutesAreAnsweredToAnyone() {
        for route in open {
            for loopback in [true, false] {
                XCTAssertEqual(
                    AdminAccess.decide(route: route, token: token, presented: nil, loopback: loopback), .allowed)
                XCTAssertEqual(
                    AdminAccess.decide(route: route, token: nil, presented: nil, loopback: loopback), .allowed)
            }
        }
    }

    func testWithATokenEveryOtherRouteNeedsIt() {
        for route in protected {
            for loopback in [true, false] {
                XCTAssertEqual(
                    AdminAccess.decide(route: route, token: token, presented: "s3cret-token", loopback: loopback),
                    .allowed)
                XCTAssertEqual(
                    AdminAccess.decide(route: route, token: token, presented: nil, loopback: loopback), .unauthorized)
                XCTAssertEqual(
                    AdminAccess.decide(route: route, token: token, presented: "s3cret-tokeN", loopback: loopback),
                    .unauthorized)
            }
        }
    }

    func testWithoutATokenOnlyALoopbackListenerAnswers() {
        for route in protected {
            XCTAssertEqual(AdminAccess.decide(route: route, token: nil, presented: nil, loopback: true), .allowed)
            XCTAssertEqual(AdminAccess.decide(route: route, token: nil, presented: "x", loopback: false), .forbidden)
        }
        XCTAssertEqual(AdminAccess.forbidden.response?.status, .forbidden)
        let unauthorized = AdminAccess.unauthorized.response
        XCTAssertEqual(unauthorized?.status, .unauthorized)
        XCTAssertEqual(unauthorized?.headers.first?.name, "WWW-Authenticate")
    }

    func testLoopbackAddresses() {
        for host in ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"] {
            XCTAssertTrue(AdminAccess.isLoopback(host: host), host)
        }
        for host in ["0.0.0.0", "10.0.0.1", "::", "192.0.2.1", "::ffff:10.0.0.1", "128.0.0.1", "127.0.0"] {
            XCTAssertFalse(AdminAccess.isLoopback(host: host), host)
        }
    }
}
