import Dispatch
import Glibc
import PosternSync
import XCTest

@testable import PosternIO

final class ResolverTests: XCTestCase {
    private let queue = DispatchQueue(label: "resolver-tests")

    /// Resolves and waits (at most 10 s) for the completion.
    private func resolve(
        _ resolver: Resolver, _ host: String, port: Int = 143, file: StaticString = #filePath, line: UInt = #line
    ) -> Result<[SocketAddress], IOError>? {
        let box = Mutex<Result<[SocketAddress], IOError>?>(nil)
        let done = DispatchSemaphore(value: 0)
        resolver.resolve(host: host, port: port, on: queue) { result in
            box.withLock { $0 = result }
            done.signal()
        }
        guard done.wait(timeout: .now() + 10) == .success else {
            XCTFail("no completion for \(host)", file: file, line: line)
            return nil
        }
        return box.withLock { $0 }
    }

    private func hosts(_ result: Result<[SocketAddress], IOError>?) -> [String] {
        guard case .success(let addresses)? = result else { return [] }
        return addresses.map(\.description)
    }

    func testNumericAddressesNeverCallTheLookup() {
        let fake = FakeLookup([:])
        let resolver = Resolver(lookup: fake.lookup)
        XCTAssertEqual(hosts(resolve(resolver, "127.0.0.1", port: 993)), ["127.0.0.1:993"])
        XCTAssertEqual(hosts(resolve(resolver, "::1", port: 143)), ["[::1]:143"])
        XCTAssertEqual(hosts(resolve(resolver, "2001:db8::5", port: 110)), ["[2001:db8::5]:110"])
        XCTAssertEqual(fake.callCount, 0)
        XCTAssertEqual(resolver.cachedNames, 0, "numeric addresses are not cached either")
    }

    func testAnswersAreReusedWithinTheTTLAndRefreshedAfter() {
        let clock = FakeClock()
        let fake = FakeLookup(["imap.test": ["192.0.2.1", "192.0.2.2"]])
        let resolver = Resolver(ttl: 30, clock: clock.clock, lookup: fake.lookup)
        XCTAssertEqual(hosts(resolve(resolver, "imap.test")), ["192.0.2.1:143", "192.0.2.2:143"])
        XCTAssertEqual(fake.callCount, 1)

        clock.advance(29)
        XCTAssertEqual(hosts(resolve(resolver, "imap.test")), ["192.0.2.1:143", "192.0.2.2:143"])
        XCTAssertEqual(hosts(resolve(resolver, "IMAP.test")), ["192.0.2.1:143", "192.0.2.2:143"], "names ignore case")
        XCTAssertEqual(fake.callCount, 1, "cache hits within the TTL")

        XCTAssertEqual(hosts(resolve(resolver, "imap.test", port: 993)), ["192.0.2.1:993", "192.0.2.2:993"])
        XCTAssertEqual(fake.callCount, 2, "another port is another entry")

        clock.advance(2)
        XCTAssertEqual(hosts(resolve(resolver, "imap.test")), ["192.0.2.1:143", "192.0.2.2:143"])
        XCTAssertEqual(fake.callCount, 3, "looked up again after the TTL")
    }

    func testFailuresAreCachedBriefly() {
        let clock = FakeClock()
        let fake = FakeLookup([:])
        let resolver = Resolver(ttl: 30, failureTTL: 5, clock: clock.clock, lookup: fake.lookup)
        guard case .failure(let error)? = resolve(resolver, "gone.test") else { return XCTFail("expected a failure") }
        XCTAssertEqual(error.kind, .resolution)
        clock.advance(4)
        guard case .failure? = resolve(resolver, "gone.test") else { return XCTFail("expected a failure") }
        XCTAssertEqual(fake.callCount, 1, "the failure is remembered for failureTTL")
        clock.advance(2)
        guard case .failure? = resolve(resolver, "gone.test") else { return XCTFail("expected a failure") }
        XCTAssertEqual(fake.callCount, 2, "and looked up again after it")
    }

    func testTheCacheKeepsAtMostMaxEntries() {
        let clock = FakeClock()
        let fake = FakeLookup(["a.test": ["192.0.2.1"], "b.test": ["192.0.2.2"], "c.test": ["192.0.2.3"]])
        let resolver = Resolver(maxEntries: 2, clock: clock.clock, lookup: fake.lookup)
        for name in ["a.test", "b.test", "c.test"] {
            _ = resolve(resolver, name)
            clock.advance(1)
        }
        XCTAssertEqual(resolver.cachedNames, 2)
        _ = resolve(resolver, "c.test")
        _ = resolve(resolver, "b.test")
        XCTAssertEqual(fake.callCount, 3, "the newest two stayed")
        _ = resolve(resolver, "a.test")
        XCTAssertEqual(fake.callCount, 4, "the one closest to expiry went")
    }

    func testAtMostMaxConcurrentLookupsRunAndTheRestQueue() {
        let gated = GatedLookup()
        let resolver = Resolver(maxConcurrent: 2, lookup: gated.lookup)
        let done = DispatchSemaphore(value: 0)
        for index in 0..<5 {
            resolver.resolve(host: "host\(index).test", port: 143, on: queue) { _ in done.signal() }
        }
        // Which lookups start is decided inside `resolve`, before it returns.
        XCTAssertEqual(resolver.runningLookups, 2)
        XCTAssertEqual(resolver.queuedLookups, 3)
        XCTAssertTrue(eventually { gated.started == 2 })
        for finished in 1...5 {
            gated.release()
            XCTAssertEqual(done.wait(timeout: .now() + 10), .success)
            XCTAssertEqual(resolver.queuedLookups, max(0, 3 - finished))
        }
        XCTAssertEqual(gated.started, 5)
        XCTAssertEqual(gated.most, 2, "never more than two at once")
        XCTAssertTrue(eventually { resolver.runningLookups == 0 })
    }

    func testCallersOfANameBeingLookedUpShareTheLookup() {
        let gated = GatedLookup()
        let resolver = Resolver(lookup: gated.lookup)
        let done = DispatchSemaphore(value: 0)
        for _ in 0..<3 {
            resolver.resolve(host: "same.test", port: 143, on: queue) { _ in done.signal() }
        }
        XCTAssertEqual(resolver.runningLookups, 1)
        gated.release()
        for _ in 0..<3 { XCTAssertEqual(done.wait(timeout: .now() + 10), .success) }
        XCTAssertEqual(gated.started, 1)
    }

    func testAFullQueueFailsAtOnceAsALocalResource() {
        let gated = GatedLookup()
        let resolver = Resolver(maxConcurrent: 1, maxQueued: 1, lookup: gated.lookup)
        let done = DispatchSemaphore(value: 0)
        resolver.resolve(host: "one.test", port: 143, on: queue) { _ in done.signal() }
        resolver.resolve(host: "two.test", port: 143, on: queue) { _ in done.signal() }
        let third = resolve(resolver, "three.test")
        guard case .failure(let error)? = third else { return XCTFail("expected a failure") }
        XCTAssertEqual(error.kind, .localResource)
        XCTAssertTrue(error.isLocal)
        gated.release()
        gated.release()
        for _ in 0..<2 { XCTAssertEqual(done.wait(timeout: .now() + 10), .success) }
    }

    func testCompletionsRunOnTheGivenQueueAndNeverInline() {
        let key = DispatchSpecificKey<String>()
        queue.setSpecific(key: key, value: "tests")
        let fake = FakeLookup(["imap.test": ["192.0.2.1"]])
        let resolver = Resolver(lookup: fake.lookup)
        let seen = Mutex<[String?]>([])
        let done = DispatchSemaphore(value: 0)
        // Asked from the target queue itself: a completion run inside `resolve` would see `inline` still true.
        for host in ["imap.test", "127.0.0.1", "imap.test"] {
            let inline = Mutex(true)
            queue.sync {
                resolver.resolve(host: host, port: 143, on: queue) { _ in
                    seen.withLock { $0.append(inline.withLock { $0 } ? "inline" : DispatchQueue.getSpecific(key: key)) }
                    done.signal()
                }
                inline.withLock { $0 = false }
            }
            XCTAssertEqual(done.wait(timeout: .now() + 10), .success)
        }
        XCTAssertEqual(seen.withLock { $0 }, ["tests", "tests", "tests"])
    }

    func testTheSystemLookupResolvesLocalhost() {
        guard case .success(let addresses)? = resolve(Resolver(), "localhost", port: 143) else {
            return XCTFail("localhost did not resolve")
        }
        XCTAssertFalse(addresses.isEmpty)
        XCTAssertTrue(addresses.allSatisfy { $0.port == 143 })
    }
}
