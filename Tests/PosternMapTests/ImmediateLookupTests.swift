import PosternMap
import PosternSync
import XCTest

/// `UserMap.immediateLookup`: file and regex maps, and a chain of them, answer at once with exactly what
/// `lookup` answers; a directory-like source (one that only answers asynchronously) makes the chain and the
/// director say `.mustAsk`; a cache answers a fresh entry at once even in front of such a source, stores an
/// immediate answer on a miss, and counts a miss only when it really looked; a traced query always takes the
/// asynchronous path.
final class ImmediateLookupTests: XCTestCase {
    private let mapText = "alice imap1\n*@example.org imap2:1143\n"

    private func fileMap() throws -> FileMap { try FileMap(text: mapText, path: "users.map") }

    private func answered(_ answer: ImmediateLookup, file: StaticString = #filePath, line: UInt = #line) -> Route?? {
        guard case .answered(let route) = answer else {
            XCTFail("expected an immediate answer, got \(answer)", file: file, line: line)
            return nil
        }
        return .some(route)
    }

    func testAFileMapAnswersAtOnceWhatItsLookupAnswers() async throws {
        let map = try fileMap()
        for user in ["alice", "ALICE", "bob@example.org", "nobody"] {
            let query = MapQuery(user: user)
            let expected = try await map.lookup(query)
            XCTAssertEqual(map.immediateLookup(query), .answered(expected), user)
        }
        XCTAssertEqual(map.immediateLookup(MapQuery(user: "nobody")), .answered(nil))
    }

    func testARegexMapAnswersAtOnceAndThrowsWhatItsLookupThrows() async throws {
        let map = try RegexMap(text: "^(.*)@good\\.example$: imap-$1\n^(.*)@bad\\.example$: [oops\n", path: "re")
        let good = MapQuery(user: "x@good.example")
        let expected = try await map.lookup(good)
        XCTAssertNotNil(expected)
        XCTAssertEqual(try map.immediateLookup(good), .answered(expected))
        XCTAssertThrowsError(try map.immediateLookup(MapQuery(user: "x@bad.example")))
        XCTAssertEqual(try map.immediateLookup(MapQuery(user: "x@other.example")), .answered(nil))
    }

    func testAChainAnswersAtOnceOnlyWhileEverySourceAskedCan() throws {
        let scripted = ScriptedMap(["carol": Route(servers: [BackendAddress(host: "dir1")], reason: "scripted")])
        let fileFirst = ChainedMap(sources: [try fileMap(), scripted], defaultServers: [])
        XCTAssertEqual(
            answered(try fileFirst.immediateLookup(MapQuery(user: "alice")))??.servers, [BackendAddress(host: "imap1")],
            "the file knows alice: the directory behind it is not needed")
        XCTAssertEqual(try fileFirst.immediateLookup(MapQuery(user: "carol")), .mustAsk, "only the directory knows")
        XCTAssertEqual(scripted.asked, 0, "an immediate lookup never asks an asynchronous source")
        let withDefault = ChainedMap(sources: [try fileMap()], defaultServers: [BackendAddress(host: "fallback")])
        XCTAssertEqual(
            answered(try withDefault.immediateLookup(MapQuery(user: "nobody")))??.reason, "default")
    }

    func testACacheAnswersAFreshEntryAtOnceInFrontOfADirectory() async throws {
        let clock = ManualClock()
        let counts = Mutex<[String]>([])
        let metrics = MapMetricsSink { _, dimensions in counts.withLock { $0 += dimensions.map(\.1) } }
        let scripted = ScriptedMap(["carol": Route(servers: [BackendAddress(host: "dir1")], reason: "ldap")])
        let cache = MapCache(MapCache.Settings(ttl: 300, negativeTTL: 30, staleTTL: 3600, capacity: 10), clock: clock)
        let cached = CachedMap(source: scripted, cache: cache, metrics: metrics)
        XCTAssertEqual(try cached.immediateLookup(MapQuery(user: "carol")), .mustAsk, "a miss in front of a directory")
        XCTAssertEqual(counts.withLock { $0 }, [], "nothing counted for a lookup not made")
        _ = try await cached.lookup(MapQuery(user: "carol"))
        XCTAssertEqual(scripted.asked, 1)
        let hit = answered(try cached.immediateLookup(MapQuery(user: "carol")))
        XCTAssertEqual(hit??.servers, [BackendAddress(host: "dir1")])
        XCTAssertEqual(hit??.reason, "ldap, cached")
        XCTAssertEqual(scripted.asked, 1, "the fresh entry answered")
        XCTAssertEqual(counts.withLock { $0 }, ["miss", "hit"])
        clock.advance(301)
        XCTAssertEqual(try cached.immediateLookup(MapQuery(user: "carol")), .mustAsk, "expired: ask again")
    }

    func testACacheStoresAnImmediateAnswerOnAMiss() throws {
        let clock = ManualClock()
        let counts = Mutex<[String]>([])
        let metrics = MapMetricsSink { _, dimensions in counts.withLock { $0 += dimensions.map(\.1) } }
        let cache = MapCache(MapCache.Settings(ttl: 300, negativeTTL: 30, staleTTL: 3600, capacity: 10), clock: clock)
        let cached = CachedMap(source: try fileMap(), cache: cache, metrics: metrics)
        XCTAssertEqual(answered(try cached.immediateLookup(MapQuery(user: "alice")))??.reason, "users.map:1 (exact)")
        XCTAssertEqual(
            answered(try cached.immediateLookup(MapQuery(user: "alice")))??.reason, "users.map:1 (exact), cached")
        XCTAssertEqual(counts.withLock { $0 }, ["miss", "hit"])
    }

    func testTheDirectorAnswersAtOnceLikeItsLookupUnlessTraced() async throws {
        let director = MapDirector(
            policy: UsernamePolicy(), sources: ChainedMap(sources: [try fileMap()], defaultServers: []),
            sourceNames: ["file users.map"],
            placement: RendezvousPlacement(servers: [BackendAddress(host: "default.example.org")]))
        for user in ["alice", "bob@example.org", "nobody"] {
            let expected = try await director.lookup(MapQuery(user: user))
            XCTAssertEqual(try director.immediateLookup(MapQuery(user: user)), .answered(expected), user)
        }
        let traced = MapQuery(user: "alice", trace: LookupTrace())
        XCTAssertEqual(try director.immediateLookup(traced), .mustAsk)
        XCTAssertEqual(traced.trace?.lines, [], "nothing written by the immediate path")
        let behindDirectory = MapDirector(
            policy: UsernamePolicy(), sources: ScriptedMap(), sourceNames: ["scripted"], placement: nil)
        XCTAssertEqual(try behindDirectory.immediateLookup(MapQuery(user: "alice")), .mustAsk)
    }
}
