import PosternIO
import XCTest

@testable import PosternServer

/// What a reload does to the bound sockets: matched by address, so a rename keeps the socket.
final class ListenerPlanTests: XCTestCase {
    private func wanted(_ name: String, _ host: String, _ port: Int) -> ListenerPlan.Wanted {
        ListenerPlan.Wanted(name: name, address: address(host, port))
    }

    func testTheSameAddressesKeepEverySocket() {
        let plan = ListenerPlan(
            current: [(1, address("127.0.0.1", 1143)), (2, address("127.0.0.1", 1110))],
            wanted: [wanted("imap", "127.0.0.1", 1143), wanted("pop3", "127.0.0.1", 1110)])
        XCTAssertEqual(plan.kept, [1: "imap", 2: "pop3"])
        XCTAssertTrue(plan.keepsEverySocket)
    }

    func testARenameMovesTheNameNotTheSocket() {
        let plan = ListenerPlan(
            current: [(1, address("127.0.0.1", 1143))], wanted: [wanted("imap-main", "127.0.0.1", 1143)])
        XCTAssertEqual(plan.kept, [1: "imap-main"])
        XCTAssertEqual(plan.toBind, [])
        XCTAssertEqual(plan.removed, [])
    }

    func testAddedAndRemovedAddresses() {
        let plan = ListenerPlan(
            current: [(1, address("127.0.0.1", 1143)), (2, address("127.0.0.1", 1144))],
            wanted: [wanted("imap", "127.0.0.1", 1143), wanted("extra", "::1", 1143)])
        XCTAssertEqual(plan.kept, [1: "imap"])
        XCTAssertEqual(plan.toBind, [wanted("extra", "::1", 1143)])
        XCTAssertEqual(plan.removed, [2])
        XCTAssertFalse(plan.keepsEverySocket)
    }

    func testAnAddressMovedToAnotherListenerKeepsItsSocketUnderTheNewName() {
        let plan = ListenerPlan(
            current: [(1, address("127.0.0.1", 1143)), (2, address("127.0.0.1", 1993))],
            wanted: [wanted("a", "127.0.0.1", 1993), wanted("b", "127.0.0.1", 1143)])
        XCTAssertEqual(plan.kept, [2: "a", 1: "b"])
        XCTAssertTrue(plan.keepsEverySocket)
    }

    func testAPortAloneDoesNotMatch() {
        let plan = ListenerPlan(current: [(1, address("127.0.0.1", 1143))], wanted: [wanted("imap", "127.0.0.2", 1143)])
        XCTAssertEqual(plan.toBind.count, 1)
        XCTAssertEqual(plan.removed, [1])
    }
}
