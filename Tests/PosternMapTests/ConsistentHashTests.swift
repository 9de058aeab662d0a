import PosternMap
import XCTest

/// Consistent hashing of users over default servers: stable, balanced, and 1/N moves on a change.
final class ConsistentHashTests: XCTestCase {
    private let users = (0..<1000).map { "user\($0)@example.org" }
    private func servers(_ count: Int) -> [BackendAddress] {
        (1...count).map { BackendAddress(host: "10.0.0.\($0)", port: 143) }
    }

    private func moved(_ before: any ServerPlacement, _ after: any ServerPlacement) -> Int {
        users.filter { before.order(for: $0).first != after.order(for: $0).first }.count
    }

    func testRendezvousAddingAFourthServerMovesAboutAQuarter() {
        let three = RendezvousPlacement(servers: servers(3))
        let four = RendezvousPlacement(servers: servers(4))
        let count = moved(three, four)
        print("rendezvous: adding a 4th server to 3 moved \(count) of 1000 users (\(Double(count) / 10) %)")
        XCTAssertEqual(Double(count), 250, accuracy: 60)
        // Only to the new server: nobody moves between the old ones.
        for user in users where three.order(for: user).first != four.order(for: user).first {
            XCTAssertEqual(four.order(for: user).first, servers(4)[3])
        }
    }

    func testRendezvousIsStableAndBalanced() {
        let placement = RendezvousPlacement(servers: servers(3))
        var counts: [BackendAddress: Int] = [:]
        for user in users {
            let order = placement.order(for: user)
            XCTAssertEqual(order, placement.order(for: user))
            XCTAssertEqual(Set(order).count, 3)
            counts[order[0], default: 0] += 1
        }
        for (_, count) in counts { XCTAssertEqual(Double(count), 333, accuracy: 70) }
        // Independent of the order the servers are listed in.
        let shuffled = RendezvousPlacement(servers: servers(3).reversed())
        XCTAssertEqual(users.filter { placement.order(for: $0) != shuffled.order(for: $0) }.count, 0)
    }

    func testRendezvousRemovingAServerMovesOnlyItsUsers() {
        let three = RendezvousPlacement(servers: servers(3))
        let two = RendezvousPlacement(servers: Array(servers(3).prefix(2)))
        for user in users where three.order(for: user).first != servers(3)[2] {
            XCTAssertEqual(three.order(for: user).first, two.order(for: user).first)
        }
        // The failover order after the owner is the next choice when the owner is gone.
        for user in users {
            let order = three.order(for: user).filter { $0 != servers(3)[2] }
            XCTAssertEqual(order.first, two.order(for: user).first)
        }
    }

    func testRingAddingAFourthServerMovesAboutAQuarter() {
        let count = moved(RingPlacement(servers: servers(3)), RingPlacement(servers: servers(4)))
        print("ring: adding a 4th server to 3 moved \(count) of 1000 users (\(Double(count) / 10) %)")
        XCTAssertEqual(Double(count), 250, accuracy: 80)
        let order = RingPlacement(servers: servers(3)).order(for: "x")
        XCTAssertEqual(Set(order).count, 3)
    }

    func testStableHashDoesNotDependOnTheProcess() {
        // Fixed values: a per-process seeded hash (Swift's Hasher) would break stickiness across restarts.
        XCTAssertEqual(StableHash.hash("alice"), 0x3507_d047_a67c_08f4)
        XCTAssertEqual(StableHash.hash(""), 0xefd0_1f60_ba99_2926)
    }
}
