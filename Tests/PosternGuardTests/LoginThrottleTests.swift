import PosternConfig
import PosternGuard
import XCTest

/// The login throttle: escalating delays per address, decay, budgets per name and network, repeated
/// secrets, trusted networks and bounded memory, on a hand-moved clock.
final class LoginThrottleTests: XCTestCase {
    private let attacker = IPAddress("192.0.2.66")!
    private let alicesHome = IPAddress("198.51.100.7")!
    private let clock = ManualClock()

    private func throttle(_ settings: LoginThrottle.Settings = .init(), trusted: [String] = []) -> LoginThrottle {
        LoginThrottle(
            settings: settings, trusted: NetworkSet(parsing: trusted)!, clock: clock,
            hasher: SipHash24(k0: 1, k1: 2))
    }

    private func fail(_ throttle: LoginThrottle, _ user: String, _ secret: String, from client: IPAddress)
        -> LoginThrottle.FailureRecord
    {
        throttle.recordFailure(user: user, secret: Array(secret.utf8), client: client)
    }

    func testDelaysStartAtTheInitialValueDoubleAndStopAtTheMaximum() {
        let throttle = throttle()
        XCTAssertEqual(throttle.delay(for: attacker), 0)
        var delays: [Double] = []
        for attempt in 1...6 {
            _ = fail(throttle, "alice", "guess-\(attempt)", from: attacker)
            delays.append(throttle.delay(for: attacker))
        }
        XCTAssertEqual(delays, [2, 4, 8, 15, 15, 15])
        XCTAssertEqual(throttle.admit(user: "bob", client: attacker), .proceed(delay: 15))
    }

    func testTheLevelDecaysAfterQuietPeriods() {
        let throttle = throttle(.init(quietPeriod: 60))
        for attempt in 1...3 { _ = fail(throttle, "alice", "guess-\(attempt)", from: attacker) }
        XCTAssertEqual(throttle.delay(for: attacker), 8)
        clock.advance(59)
        XCTAssertEqual(throttle.delay(for: attacker), 8)
        clock.advance(1)
        XCTAssertEqual(throttle.delay(for: attacker), 4)
        clock.advance(120)
        XCTAssertEqual(throttle.delay(for: attacker), 0)
        XCTAssertEqual(fail(throttle, "alice", "guess-4", from: attacker), .counted(level: 1, nextDelay: 2))
    }

    func testAnAttackerOnAliceNeverSlowsOrLocksOutAliceAtHome() {
        let throttle = throttle(.init(userBudget: 3))
        for attempt in 1...10 { _ = fail(throttle, "alice", "guess-\(attempt)", from: attacker) }
        XCTAssertEqual(throttle.admit(user: "alice", client: attacker), .refuse(delay: 15))
        XCTAssertEqual(throttle.admit(user: "ALICE", client: attacker), .refuse(delay: 15))
        XCTAssertEqual(throttle.admit(user: "alice", client: alicesHome), .proceed(delay: 0))
        XCTAssertEqual(throttle.delay(for: alicesHome), 0)
    }

    func testTheBudgetIsPerNameAndDecays() {
        let throttle = throttle(.init(userBudget: 2, budgetPeriod: 600))
        _ = fail(throttle, "alice", "one", from: attacker)
        _ = fail(throttle, "alice", "two", from: attacker)
        XCTAssertEqual(throttle.admit(user: "alice", client: attacker), .refuse(delay: 15))
        guard case .proceed = throttle.admit(user: "bob", client: attacker) else {
            return XCTFail("bob's budget is his own")
        }
        clock.advance(600)
        XCTAssertEqual(throttle.admit(user: "alice", client: attacker), .proceed(delay: 0))
    }

    func testASuccessRestoresTheBudgetButNotTheAddressPenalty() {
        let throttle = throttle(.init(userBudget: 2))
        _ = fail(throttle, "alice", "one", from: attacker)
        _ = fail(throttle, "alice", "two", from: attacker)
        throttle.recordSuccess(user: "alice", client: attacker)
        XCTAssertEqual(throttle.admit(user: "alice", client: attacker), .proceed(delay: 4))
    }

    func testTheSameWrongSecretDoesNotEscalate() {
        let throttle = throttle()
        XCTAssertEqual(fail(throttle, "alice", "old-password", from: attacker), .counted(level: 1, nextDelay: 2))
        for _ in 1...5 {
            XCTAssertEqual(fail(throttle, "alice", "old-password", from: attacker), .repeatedSecret)
        }
        XCTAssertEqual(throttle.delay(for: attacker), 2)
        // The same secret for another name is another guess.
        XCTAssertEqual(fail(throttle, "bob", "old-password", from: attacker), .counted(level: 2, nextDelay: 4))
    }

    func testAFingerprintTakenAtTheStartRecordsLikeTheSecret() {
        let throttle = throttle()
        let print = throttle.fingerprint(user: "alice", secret: Array("old-password".utf8))
        XCTAssertEqual(print, throttle.fingerprint(user: "alice", secret: Array("old-password".utf8)))
        XCTAssertNotEqual(print, throttle.fingerprint(user: "alice", secret: Array("old-passwore".utf8)))
        XCTAssertNotEqual(print, throttle.fingerprint(user: "alicf", secret: Array("old-password".utf8)))
        XCTAssertEqual(
            throttle.recordFailure(user: "alice", fingerprint: print, client: attacker),
            .counted(level: 1, nextDelay: 2))
        XCTAssertEqual(fail(throttle, "alice", "old-password", from: attacker), .repeatedSecret)
    }

    func testOnlyRecentSecretsAreRemembered() {
        let throttle = throttle(.init(recentSecrets: 2))
        _ = fail(throttle, "alice", "a", from: attacker)
        _ = fail(throttle, "alice", "b", from: attacker)
        _ = fail(throttle, "alice", "c", from: attacker)
        XCTAssertEqual(fail(throttle, "alice", "c", from: attacker), .repeatedSecret)
        XCTAssertEqual(fail(throttle, "alice", "a", from: attacker), .counted(level: 4, nextDelay: 15))
    }

    func testTrustedNetworksAreNeverDelayedOrCounted() {
        let webmail = IPAddress("10.9.8.7")!
        let throttle = throttle(trusted: ["10.0.0.0/8"])
        for attempt in 1...20 { XCTAssertEqual(fail(throttle, "alice", "g\(attempt)", from: webmail), .exempt) }
        XCTAssertEqual(throttle.admit(user: "alice", client: webmail), .proceed(delay: 0))
        XCTAssertEqual(throttle.entryCounts.addresses, 0)
    }

    func testAnInitialDelayOfZeroTurnsThrottlingOff() {
        let throttle = throttle(.init(initialDelay: 0))
        XCTAssertEqual(fail(throttle, "alice", "x", from: attacker), .exempt)
        XCTAssertEqual(throttle.delay(for: attacker), 0)
    }

    func testIPv6AddressesShareTheirSlash64() {
        let throttle = throttle()
        _ = fail(throttle, "alice", "x", from: IPAddress("2001:db8:1:2::1")!)
        XCTAssertEqual(throttle.delay(for: IPAddress("2001:db8:1:2:ffff::9")!), 2)
        XCTAssertEqual(throttle.delay(for: IPAddress("2001:db8:1:3::1")!), 0)
    }

    func testMemoryIsBoundedAndTheOldestEntriesGoFirst() {
        let throttle = throttle(.init(capacity: 100))
        for index in 0..<1000 {
            let client = IPAddress(bytes: [203, 0, UInt8(index / 256), UInt8(index % 256)])!
            _ = fail(throttle, "user\(index)", "x", from: client)
        }
        XCTAssertEqual(throttle.entryCounts.addresses, 100)
        XCTAssertEqual(throttle.entryCounts.pairs, 100)
        XCTAssertEqual(throttle.delay(for: IPAddress("203.0.0.0")!), 0, "the oldest was evicted")
        XCTAssertEqual(throttle.delay(for: IPAddress("203.0.3.231")!), 2, "the newest is kept")
    }

    func testSettingsComeFromTheLimitsBlock() {
        var limits = Limits()
        limits.authFailureDelay = AuthFailureDelay(initial: 1, max: 3)
        let settings = LoginThrottle.Settings(limits: limits)
        XCTAssertEqual(settings.initialDelay, 1)
        XCTAssertEqual(settings.maxDelay, 3)
    }
}
