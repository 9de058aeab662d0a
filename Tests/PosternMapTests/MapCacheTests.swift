import PosternMap
import XCTest

/// The lookup cache: TTLs, negative entries, stale-on-error within the stale limit, the size bound.
final class MapCacheTests: XCTestCase {
    private let alice = Route(servers: [BackendAddress(host: "a")], reason: "ldap uid=alice")
    private let clock = ManualClock()

    private func makeCache(capacity: Int = 100) -> MapCache {
        MapCache(MapCache.Settings(ttl: 300, negativeTTL: 30, staleTTL: 3600, capacity: capacity), clock: clock)
    }

    func testPositiveEntriesLiveForTheirTTL() async throws {
        let source = ScriptedMap(["alice": alice])
        let map = CachedMap(source: source, cache: makeCache())
        _ = try await map.lookup(user: "alice")
        clock.advance(299)
        let cached = try await map.lookup(user: "alice")
        XCTAssertEqual(source.asked, 1)
        XCTAssertEqual(cached?.servers, alice.servers)
        XCTAssertEqual(cached?.reason, "ldap uid=alice, cached")
        clock.advance(2)
        _ = try await map.lookup(user: "alice")
        XCTAssertEqual(source.asked, 2)
    }

    func testNegativeEntriesHaveTheirOwnTTL() async throws {
        let source = ScriptedMap()
        let map = CachedMap(source: source, cache: makeCache())
        let first = try await map.lookup(user: "ghost")
        XCTAssertNil(first)
        clock.advance(29)
        let second = try await map.lookup(user: "ghost")
        XCTAssertNil(second)
        XCTAssertEqual(source.asked, 1)
        source.set("ghost", alice)
        clock.advance(2)
        let third = try await map.lookup(user: "ghost")
        XCTAssertEqual(third?.servers, alice.servers)
        XCTAssertEqual(source.asked, 2)
    }

    func testStaleEntriesStandInWhileTheSourceFailsUpToTheStaleLimit() async throws {
        let source = ScriptedMap(["alice": alice])
        let map = CachedMap(source: source, cache: makeCache())
        _ = try await map.lookup(user: "alice")
        source.fail("directory down")
        clock.advance(301)
        let trace = LookupTrace()
        let stale = try await map.lookup(MapQuery(user: "alice", trace: trace))
        XCTAssertEqual(stale?.servers, alice.servers)
        XCTAssertTrue(stale?.reason.contains("stale (301 s old)") ?? false, stale?.reason ?? "nil")
        XCTAssertTrue(trace.lines.contains { $0.contains("using a stale entry") }, "\(trace.lines)")
        clock.advance(3600)  // 3901 s after storing: past ttl + stale_ttl
        do {
            _ = try await map.lookup(user: "alice")
            XCTFail("a too-old entry must not be used")
        } catch {
            XCTAssertEqual("\(error)", "directory down")
        }
        // A user never seen fails at once; a negative entry is not served stale.
        do {
            _ = try await map.lookup(user: "bob")
            XCTFail("expected the source's error")
        } catch {}
    }

    func testTheSizeBoundEvictsTheOldestEntries() async throws {
        let cache = makeCache(capacity: 3)
        for name in ["a", "b", "c"] { cache.store(name, alice) }
        XCTAssertEqual(cache.count, 3)
        XCTAssertEqual(cache.store("d", alice), 1)
        XCTAssertEqual(cache.count, 3)
        XCTAssertEqual(cache.fresh("a"), .miss)
        XCTAssertEqual(cache.fresh("d"), .fresh(alice))
        // Storing a key again refreshes it in place without evicting anything.
        XCTAssertEqual(cache.store("b", alice), 0)
        for index in 0..<10_000 { cache.store("user\(index)", index.isMultiple(of: 2) ? alice : nil) }
        XCTAssertEqual(cache.count, 3)
    }

    func testClientIPIsPartOfTheKeyWhenATemplateUsesIt() async throws {
        let source = ScriptedMap(["alice": alice])
        let map = CachedMap(source: source, cache: makeCache(), keyByClientIP: true)
        _ = try await map.lookup(MapQuery(user: "alice", clientIP: "192.0.2.1"))
        _ = try await map.lookup(MapQuery(user: "alice", clientIP: "192.0.2.2"))
        _ = try await map.lookup(MapQuery(user: "alice", clientIP: "192.0.2.1"))
        XCTAssertEqual(source.asked, 2)
    }
}
