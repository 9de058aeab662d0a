import PosternConfig
import PosternMap
import PosternSync
import XCTest

/// Login names cannot choose the backend: unsafe regex substitutions skip the rule, and
/// `map.allowed_backends` refuses routes from any source that name another backend.
final class MapInjectionTests: XCTestCase {
    /// The rule docs/operations.md used to give.
    private let oldDocsRule = "^([^@]*)@example\\.net$: $1@imap2.example.org:1143\n"
    private let imap2 = BackendAddress(host: "imap2.example.org", port: 1143)

    /// The names of the issue, and their cousins.
    private let injections = [
        "a,10.0.0.7:25,b@example.net", "a,127.0.0.3:25,b@example.net", "a 10.0.0.7 b@example.net",
        "a\t10.0.0.7@example.net", "a:25@example.net", "[::1]:25@example.net", "a\r\nb@example.net",
        "a\nb@example.net", "a\u{0}b@example.net", "a\u{7F}@example.net",
    ]

    /// Collects what the map reports.
    final class Refusals: Sendable {
        private let list = Mutex<[MapRefusal]>([])
        var all: [MapRefusal] { list.withLock { $0 } }
        var sink: MapRefusalSink { MapRefusalSink { refusal in self.list.withLock { $0.append(refusal) } } }
    }

    func testTheOldDocsRuleNoLongerRoutesInjectedNames() async throws {
        let refusals = Refusals()
        let map = try RegexMap(text: oldDocsRule, path: "popmap.re", refusals: refusals.sink)
        for name in injections {
            let route = try await map.lookup(user: name)
            XCTAssertNil(route, name.debugDescription)
        }
        XCTAssertEqual(refusals.all.count, injections.count)
        XCTAssertEqual(
            refusals.all.first,
            MapRefusal(source: "popmap.re", reason: .unsafeSubstitution(line: 1, group: 1, problem: .separator(","))))
        let alice = try await map.lookup(user: "alice@example.net")
        XCTAssertEqual(alice, Route(servers: [imap2], reason: "popmap.re:1 (regex)", backendUser: "alice"))
    }

    func testEverySeparatorAndControlCharacterIsNamed() {
        XCTAssertEqual(MapSubstitution.problem(in: "a,b"), .separator(","))
        XCTAssertEqual(MapSubstitution.problem(in: "a b"), .separator(" "))
        XCTAssertEqual(MapSubstitution.problem(in: "a\tb"), .controlCharacter(9))
        XCTAssertEqual(MapSubstitution.problem(in: "a@b"), .separator("@"))
        XCTAssertEqual(MapSubstitution.problem(in: "a:b"), .separator(":"))
        XCTAssertEqual(MapSubstitution.problem(in: "[a"), .separator("["))
        XCTAssertEqual(MapSubstitution.problem(in: "a]"), .separator("]"))
        XCTAssertEqual(MapSubstitution.problem(in: "a\r"), .controlCharacter(13))
        XCTAssertEqual(MapSubstitution.problem(in: "a\u{0}"), .controlCharacter(0))
        XCTAssertEqual(MapSubstitution.problem(in: "a\u{9B}"), .controlCharacter(0x9B))
        XCTAssertNil(MapSubstitution.problem(in: "alice.smith-2_x+tag"))
        XCTAssertNil(MapSubstitution.problem(in: "jörg"))
        XCTAssertEqual(MapSubstitution.problem(inBytes: [0x61, 0xFF]), .controlCharacter(0xFFFD))
    }

    func testASkippedRuleLetsALaterRuleMatch() async throws {
        let map = try RegexMap(
            text: "^(.*)@example\\.net$: $1@imap2.example.org\n^.*$: fallback.example.org\n", path: "re")
        let route = try await map.lookup(user: "a@b@example.net")
        XCTAssertEqual(route?.servers, [BackendAddress(host: "fallback.example.org")])
        XCTAssertNil(route?.backendUser)
    }

    func testTheTextBeforeAnUnanchoredMatchIsCheckedToo() async throws {
        let refusals = Refusals()
        let map = try RegexMap(text: "example\\.net$: .mail.example.org\n", path: "re", refusals: refusals.sink)
        let injected = try await map.lookup(user: "10.0.0.7:25,x@example.net")
        XCTAssertNil(injected)
        XCTAssertEqual(
            refusals.all,
            [MapRefusal(source: "re", reason: .unsafeSubstitution(line: 1, group: nil, problem: .separator(":")))])
        XCTAssertEqual(map.value(for: "imap.example.net")?.text, "imap..mail.example.org")
    }

    func testTheTraceSaysWhyARuleWasSkipped() async throws {
        let map = try RegexMap(text: oldDocsRule, path: "popmap.re")
        let trace = LookupTrace()
        _ = try await map.lookup(MapQuery(user: "a,10.0.0.7:25,b@example.net", trace: trace))
        XCTAssertTrue(
            trace.lines.contains { $0.contains("popmap.re:1: rule skipped, $1 is unsafe: ',' in substituted text") },
            "\(trace.lines)")
    }

    func testThroughTheDirectorNoInjectedNameReachesAnUnnamedBackend() async throws {
        let regex = try RegexMap(text: oldDocsRule, path: "popmap.re")
        let director = MapDirector(
            policy: UsernamePolicy(), sources: regex, sourceNames: ["regex"],
            placement: RendezvousPlacement(servers: [BackendAddress(host: "default.example.org")]))
        for name in injections {
            let route = try await director.lookup(user: name)
            XCTAssertEqual(route?.servers, [BackendAddress(host: "default.example.org")], name.debugDescription)
        }
    }

    private func director(
        _ routes: [String: Route], allowed: [String], defaults: [BackendAddress] = [], refusals: Refusals
    )
        -> MapDirector
    {
        MapDirector(
            policy: UsernamePolicy(), sources: ScriptedMap(routes), sourceNames: ["scripted"],
            placement: defaults.isEmpty ? nil : RendezvousPlacement(servers: defaults),
            allowedBackends: AllowedBackends(parsing: allowed)!, refusals: refusals.sink)
    }

    func testAllowedBackendsRefuseARouteFromAnySourceOutsideThem() async throws {
        let refusals = Refusals()
        let inside = Route(servers: [BackendAddress(host: "10.1.0.5", port: 1143)], reason: "users.map:1 (exact)")
        let outside = Route(
            servers: [BackendAddress(host: "10.1.0.5"), BackendAddress(host: "10.0.0.7", port: 25)],
            reason: "users.map:2 (exact)")
        let director = director(
            ["alice": inside, "mallory": outside], allowed: ["10.1.0.0/16", "*.mail.example.org"],
            defaults: [BackendAddress(host: "other.example.org")], refusals: refusals)
        let alice = try await director.lookup(user: "alice")
        XCTAssertEqual(alice?.servers, inside.servers)
        do {
            _ = try await director.lookup(user: "mallory")
            XCTFail("a route with 10.0.0.7 must be refused")
        } catch let error as RouteRefused {
            XCTAssertEqual(
                error.refusal,
                MapRefusal(
                    source: "users.map:2 (exact)",
                    reason: .backendNotAllowed(BackendAddress(host: "10.0.0.7", port: 25))))
        }
        do {
            _ = try await director.lookup(user: "nobody-known")
            XCTFail("the default server is outside the list")
        } catch let error as RouteRefused {
            XCTAssertEqual(error.refusal.reason, .backendNotAllowed(BackendAddress(host: "other.example.org")))
        }
        XCTAssertEqual(refusals.all.count, 2)
    }

    func testWildcardsAdmitNamesUnderTheSuffixOnly() async throws {
        let refusals = Refusals()
        let director = director(
            [
                "a": Route(servers: [BackendAddress(host: "imap1.mail.example.org")], reason: "a"),
                "b": Route(servers: [BackendAddress(host: "mail.example.org.evil.net")], reason: "b"),
            ], allowed: ["*.mail.example.org"], refusals: refusals)
        let allowed = try await director.lookup(user: "a")
        XCTAssertNotNil(allowed)
        do {
            _ = try await director.lookup(user: "b")
            XCTFail("outside the suffix")
        } catch is RouteRefused {}
    }

    func testWithoutAnAllowListEveryRouteStands() async throws {
        let director = MapDirector(
            policy: UsernamePolicy(),
            sources: ScriptedMap(["x": Route(servers: [BackendAddress(host: "10.0.0.7", port: 25)], reason: "x")]),
            sourceNames: [], placement: nil)
        let route = try await director.lookup(user: "x")
        XCTAssertEqual(route?.servers.first?.port, 25)
    }
}
