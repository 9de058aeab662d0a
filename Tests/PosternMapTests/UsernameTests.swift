import PosternConfig
import PosternMap
import XCTest

/// User-name rewriting per stage, the lookup key template, and the backend login name.
final class UsernameTests: XCTestCase {
    private func stage(strip: Bool = false, domain: String = "", lower: LowerCaseMode = .none) -> UsernameStage {
        var stage = UsernameStage()
        stage.stripDomain = strip
        stage.defaultDomain = domain
        stage.lowerCase = lower
        return stage
    }

    func testRewritingPerStage() {
        let policy = UsernamePolicy()
        XCTAssertEqual(policy.rewrite("Alice@Example.ORG", stage()), "Alice@Example.ORG")
        XCTAssertEqual(policy.rewrite("Alice@Example.ORG", stage(strip: true)), "Alice")
        XCTAssertEqual(policy.rewrite("Alice@Example.ORG", stage(lower: .domain)), "Alice@example.org")
        XCTAssertEqual(policy.rewrite("Alice@Example.ORG", stage(lower: .all)), "alice@example.org")
        XCTAssertEqual(policy.rewrite("bob", stage(domain: "example.net")), "bob@example.net")
        XCTAssertEqual(policy.rewrite("bob@a.org", stage(domain: "example.net")), "bob@a.org")
        XCTAssertEqual(policy.rewrite("Bob", stage(strip: true, lower: .all)), "bob")
        // The domain is split at the last delimiter.
        XCTAssertEqual(policy.rewrite("a@b@C.org", stage(lower: .domain)), "a@b@c.org")
    }

    func testOtherDelimiterAndKeyTemplate() {
        var config = UsernameConfig()
        config.domainDelimiter = "%"
        config.lookup = stage(lower: .all)
        config.keyTemplate = "{local}@{domain}"
        let policy = UsernamePolicy(config)
        XCTAssertEqual(policy.lookupKey("Carol%Example.org", clientIP: nil), "carol@example.org")
        config.keyTemplate = "{user}/{client_ip}"
        XCTAssertEqual(UsernamePolicy(config).lookupKey("x%y", clientIP: "192.0.2.1"), "x%y/192.0.2.1")
    }

    func testDirectorUsesTheLookupKeyAndGivesTheBackendLogin() async throws {
        var config = UsernameConfig()
        config.lookup = stage(strip: true, lower: .all)
        config.login = stage(domain: "example.org")
        let source = ScriptedMap([
            "alice": Route(servers: [BackendAddress(host: "a")], reason: "map"),
            "dave": Route(servers: [BackendAddress(host: "b")], reason: "map", backendUser: "carol"),
        ])
        let director = MapDirector(
            policy: UsernamePolicy(config), sources: source, sourceNames: ["scripted"], placement: nil)
        let trace = LookupTrace()
        let alice = try await director.lookup(MapQuery(user: "ALICE@Example.org", trace: trace))
        XCTAssertEqual(alice?.servers, [BackendAddress(host: "a")])
        XCTAssertEqual(alice?.backendUser, "ALICE@Example.org")
        XCTAssertTrue(trace.lines.contains("login name 'ALICE@Example.org' -> lookup key 'alice'"), "\(trace.lines)")
        let plain = try await director.lookup(MapQuery(user: "alice"))
        XCTAssertEqual(plain?.backendUser, "alice@example.org")
        let dave = try await director.lookup(MapQuery(user: "Dave"))
        XCTAssertEqual(dave?.backendUser, "carol")
        let nobody = try await director.lookup(MapQuery(user: "nobody"))
        XCTAssertNil(nobody)

        config.fromMap = false
        let ignoring = MapDirector(policy: UsernamePolicy(config), sources: source, sourceNames: [], placement: nil)
        let daveIgnored = try await ignoring.lookup(MapQuery(user: "dave"))
        XCTAssertEqual(daveIgnored?.backendUser, "dave@example.org")
    }

    func testDirectorPlacesUnknownUsersOnTheDefaultServersByHashing() async throws {
        let servers = (1...3).map { BackendAddress(host: "10.0.0.\($0)") }
        let director = MapDirector(
            policy: UsernamePolicy(), sources: ScriptedMap(), sourceNames: [],
            placement: RendezvousPlacement(servers: servers))
        let first = try await director.lookup(user: "zed")
        let again = try await director.lookup(user: "zed")
        XCTAssertEqual(first?.servers, again?.servers)
        XCTAssertEqual(Set(first?.servers ?? []), Set(servers))
        XCTAssertTrue(first?.reason.hasPrefix("default (rendezvous hashing") ?? false)
    }
}
