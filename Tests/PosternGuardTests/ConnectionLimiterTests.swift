import PosternConfig
import PosternGuard
import XCTest

/// Connection limits: global, per address (IPv6 per /64), before login per address, per user.
final class ConnectionLimiterTests: XCTestCase {
    private func address(_ text: String) -> IPAddress { IPAddress(text)! }

    private func acquire(_ limiter: ConnectionLimiter, _ text: String) -> ConnectionLimiter.Ticket? {
        try? limiter.acquire(client: address(text)).get()
    }

    func testTheGlobalLimitRefusesTheExcessAndReleaseFreesASlot() {
        let limiter = ConnectionLimiter(settings: .init(maxConnections: 2))
        let first = acquire(limiter, "192.0.2.1")
        XCTAssertNotNil(acquire(limiter, "192.0.2.2"))
        XCTAssertEqual(limiter.acquire(client: address("192.0.2.3")), .failure(.maxConnections(limit: 2)))
        limiter.release(first!)
        XCTAssertNotNil(acquire(limiter, "192.0.2.3"))
    }

    func testThePerAddressLimitLeavesOtherAddressesAlone() {
        let limiter = ConnectionLimiter(settings: .init(maxConnections: 100, maxConnectionsPerIP: 2))
        XCTAssertNotNil(acquire(limiter, "127.0.0.2"))
        XCTAssertNotNil(acquire(limiter, "127.0.0.2"))
        let key = ClientAddressKey(address("127.0.0.2"))
        XCTAssertEqual(limiter.acquire(client: address("127.0.0.2")), .failure(.maxConnectionsPerIP(key, limit: 2)))
        XCTAssertNotNil(acquire(limiter, "127.0.0.3"))
    }

    func testIPv6IsCountedPerSlash64() {
        let limiter = ConnectionLimiter(settings: .init(maxConnections: 100, maxConnectionsPerIP: 1))
        XCTAssertNotNil(acquire(limiter, "2001:db8:0:1::1"))
        guard case .failure(.maxConnectionsPerIP) = limiter.acquire(client: address("2001:db8:0:1::2")) else {
            return XCTFail("the same /64 must share the limit")
        }
        XCTAssertNotNil(acquire(limiter, "2001:db8:0:2::1"))
    }

    func testThePreauthLimitCountsOnlyConnectionsThatHaveNotLoggedIn() {
        let limiter = ConnectionLimiter(
            settings: .init(maxConnections: 100, maxConnectionsPerIP: 10, maxPreauthPerIP: 2))
        let first = acquire(limiter, "192.0.2.9")!
        XCTAssertNotNil(acquire(limiter, "192.0.2.9"))
        guard case .failure(.maxPreauthPerIP(_, 2)) = limiter.acquire(client: address("192.0.2.9")) else {
            return XCTFail("a third connection that has not logged in is over max_preauth_per_ip")
        }
        XCTAssertEqual(limiter.loggedIn(first, user: "alice"), nil)
        XCTAssertNotNil(acquire(limiter, "192.0.2.9"))
        XCTAssertEqual(limiter.counts(for: address("192.0.2.9")).connections, 3)
        XCTAssertEqual(limiter.counts(for: address("192.0.2.9")).preauth, 2)
    }

    func testSessionsPerUserAreLimitedWithoutRegardToCase() {
        let limiter = ConnectionLimiter(settings: .init(maxConnections: 100, maxSessionsPerUser: 1))
        let one = acquire(limiter, "192.0.2.1")!
        let two = acquire(limiter, "192.0.2.2")!
        XCTAssertEqual(limiter.loggedIn(one, user: "alice"), nil)
        XCTAssertEqual(limiter.loggedIn(two, user: "Alice"), .maxSessionsPerUser("Alice", limit: 1))
        limiter.release(one)
        XCTAssertEqual(limiter.loggedIn(two, user: "Alice"), nil)
        XCTAssertEqual(limiter.sessions(of: "alice"), 1)
    }

    func testReleaseIsIdempotentAndCountsNeverGoNegative() {
        let limiter = ConnectionLimiter(settings: .init(maxConnections: 1))
        let ticket = acquire(limiter, "192.0.2.1")!
        _ = limiter.loggedIn(ticket, user: "alice")
        limiter.release(ticket)
        limiter.release(ticket)
        XCTAssertEqual(limiter.counts, .init(connections: 0, preauth: 0, sessions: 0))
        XCTAssertEqual(limiter.sessions(of: "alice"), 0)
        XCTAssertNotNil(acquire(limiter, "192.0.2.1"))
        XCTAssertEqual(limiter.acquire(client: address("192.0.2.1")), .failure(.maxConnections(limit: 1)))
    }

    func testTrustedNetworksSkipThePerAddressLimitsOnly() {
        let limiter = ConnectionLimiter(
            settings: .init(
                maxConnections: 3, maxConnectionsPerIP: 1, maxPreauthPerIP: 1,
                exempt: NetworkSet(parsing: ["127.0.0.0/8"])!))
        XCTAssertNotNil(acquire(limiter, "127.0.0.1"))
        XCTAssertNotNil(acquire(limiter, "127.0.0.1"))
        XCTAssertNotNil(acquire(limiter, "127.0.0.1"))
        XCTAssertEqual(limiter.acquire(client: address("127.0.0.1")), .failure(.maxConnections(limit: 3)))
    }

    func testAReloadChangesLimitsButKeepsCounts() {
        let limiter = ConnectionLimiter(settings: .init(maxConnections: 10, maxConnectionsPerIP: 5))
        for _ in 0..<3 { XCTAssertNotNil(acquire(limiter, "192.0.2.1")) }
        limiter.update(.init(maxConnections: 10, maxConnectionsPerIP: 3))
        XCTAssertEqual(limiter.counts.connections, 3)
        guard case .failure(.maxConnectionsPerIP(_, 3)) = limiter.acquire(client: address("192.0.2.1")) else {
            return XCTFail("the new limit applies to new connections")
        }
    }

    func testRefusalsNameTheirConfigKey() {
        let key = ClientAddressKey(address("192.0.2.1"))
        XCTAssertEqual(ConnectionLimiter.Refusal.maxConnections(limit: 1).label, "max_connections")
        XCTAssertEqual(ConnectionLimiter.Refusal.maxConnectionsPerIP(key, limit: 1).label, "max_connections_per_ip")
        XCTAssertEqual(ConnectionLimiter.Refusal.maxPreauthPerIP(key, limit: 1).label, "max_preauth_per_ip")
        XCTAssertEqual(ConnectionLimiter.Refusal.maxSessionsPerUser("a", limit: 1).label, "max_sessions_per_user")
    }

    func testSettingsComeFromTheLimitsBlock() {
        var limits = Limits()
        limits.maxSessions = 7
        limits.maxConnectionsPerIP = 3
        limits.trustedNetworks = NetworkSet(parsing: ["10.0.0.0/8"])!
        let settings = ConnectionLimiter.Settings(limits: limits)
        XCTAssertEqual(settings.maxConnections, 7)
        XCTAssertEqual(settings.maxConnectionsPerIP, 3)
        XCTAssertTrue(settings.exempt.contains("10.1.2.3"))
    }
}
