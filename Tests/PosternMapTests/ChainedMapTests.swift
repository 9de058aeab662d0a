import PosternMap
import XCTest

/// A map with fixed answers, or one that fails every lookup.
private struct StubMap: UserMap {
    var routes: [String: Route] = [:]
    var failure: String?

    func lookup(_ query: MapQuery) async throws -> Route? {
        if let failure { throw MapError(failure) }
        return routes[query.user]
    }
}

/// `ChainedMap`: sources in order, then the default servers.
final class ChainedMapTests: XCTestCase {
    private let first = StubMap(routes: [
        "alice": Route(servers: [BackendAddress(host: "one")], reason: "first"),
        "shared": Route(servers: [BackendAddress(host: "one", port: 1)], reason: "first"),
    ])
    private let second = StubMap(routes: [
        "bob": Route(servers: [BackendAddress(host: "two")], reason: "second"),
        "shared": Route(servers: [BackendAddress(host: "two", port: 2)], reason: "second"),
    ])
    private let defaults = [BackendAddress(host: "fallback", port: 143), BackendAddress(host: "::1")]

    /// The reason of the route `map` gives `user` (XCTest's assertions cannot await), nil when none.
    private func reason(_ map: some UserMap, _ user: String) async throws -> String? {
        try await map.lookup(user: user)?.reason
    }

    func testSourcesAreAskedInOrder() async throws {
        let chain = ChainedMap(sources: [first, second], defaultServers: defaults)
        let alice = try await reason(chain, "alice")
        let bob = try await reason(chain, "bob")
        let shared = try await chain.lookup(user: "shared")
        XCTAssertEqual(alice, "first")
        XCTAssertEqual(bob, "second")
        XCTAssertEqual(shared?.servers, [BackendAddress(host: "one", port: 1)])

        let reversed = ChainedMap(sources: [second, first], defaultServers: defaults)
        let sharedReversed = try await reversed.lookup(user: "shared")
        XCTAssertEqual(sharedReversed?.servers, [BackendAddress(host: "two", port: 2)])
    }

    func testDefaultServersWhenNoSourceKnowsTheUser() async throws {
        let chain = ChainedMap(sources: [first, second], defaultServers: defaults)
        let carol = try await chain.lookup(user: "carol")
        XCTAssertEqual(carol, Route(servers: defaults, reason: "default"))
        let anyone = try await ChainedMap(sources: [], defaultServers: defaults).lookup(user: "anyone")
        XCTAssertEqual(anyone, Route(servers: defaults, reason: "default"))
    }

    func testNoDefaultMeansUnknown() async throws {
        let withSource = try await ChainedMap(sources: [first], defaultServers: []).lookup(user: "carol")
        XCTAssertNil(withSource)
        let empty = try await ChainedMap(sources: [], defaultServers: []).lookup(user: "carol")
        XCTAssertNil(empty)
    }

    func testLaterSourcesAreNotAskedAfterAnAnswer() async throws {
        let chain = ChainedMap(sources: [first, StubMap(failure: "must not be asked")], defaultServers: defaults)
        let alice = try await reason(chain, "alice")
        XCTAssertEqual(alice, "first")
    }

    func testAFailingSourceFailsTheLookup() async throws {
        let chain = ChainedMap(sources: [first, StubMap(failure: "directory down"), second], defaultServers: defaults)
        do {
            let route = try await chain.lookup(user: "bob")
            XCTFail("expected the failure, got \(String(describing: route))")
        } catch let error as MapError {
            XCTAssertEqual(error.message, "directory down")
            XCTAssertEqual(error.description, "directory down")
        }
    }

    func testWithAFileMap() async throws {
        let file = try FileMap(text: "alice imap1\n*@example.org imap2:1143\n", path: "users.map")
        let chain = ChainedMap(sources: [file, second], defaultServers: defaults)
        let alice = try await reason(chain, "alice")
        let wildcard = try await chain.lookup(user: "x@example.org")
        let bob = try await reason(chain, "bob")
        let zoe = try await reason(chain, "zoe")
        XCTAssertEqual(alice, "users.map:1 (exact)")
        XCTAssertEqual(wildcard?.servers, [BackendAddress(host: "imap2", port: 1143)])
        XCTAssertEqual(bob, "second")
        XCTAssertEqual(zoe, "default")
    }
}
