import Foundation
import Glibc
import PosternProcess
import XCTest

/// The notify protocol, played by a datagram socket of the test's own.
final class SystemdNotifierTests: XCTestCase {
    func testMessagesArriveInOrderOnAPathSocket() throws {
        let folder = try makeTemporaryFolder("notify")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/notify.sock"
        let receiver = try DatagramReceiver(address: Array(path.utf8))
        let notifier = try XCTUnwrap(try SystemdNotifier.fromEnvironment(["NOTIFY_SOCKET": path]))
        XCTAssertEqual(notifier.socketPath, path)
        try notifier.send([.ready, .status("serving 2 listeners")])
        try notifier.send(.reloading(monotonicMicroseconds: 12_345_678))
        try notifier.send(.ready)
        try notifier.send(.stopping)
        XCTAssertEqual(receiver.receive(), "READY=1\nSTATUS=serving 2 listeners")
        XCTAssertEqual(receiver.receive(), "RELOADING=1\nMONOTONIC_USEC=12345678")
        XCTAssertEqual(receiver.receive(), "READY=1")
        XCTAssertEqual(receiver.receive(), "STOPPING=1")
        XCTAssertNil(receiver.receive())
    }

    func testAbstractSocketNamesStartWithAt() throws {
        let name = "postern-notify-test-\(getpid())"
        let receiver = try DatagramReceiver(address: [0] + Array(name.utf8))
        try SystemdNotifier(socketPath: "@" + name).send(.mainPID(42))
        XCTAssertEqual(receiver.receive(), "MAINPID=42")
    }

    func testReloadingNowCarriesTheMonotonicClock() throws {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        let before = UInt64(spec.tv_sec) * 1_000_000 + UInt64(spec.tv_nsec) / 1000
        guard case .reloading(let stamp) = SystemdNotification.reloadingNow() else { return XCTFail() }
        clock_gettime(CLOCK_MONOTONIC, &spec)
        let after = UInt64(spec.tv_sec) * 1_000_000 + UInt64(spec.tv_nsec) / 1000
        XCTAssertTrue((before...after).contains(stamp))
    }

    func testStatusCannotAddAssignments() {
        XCTAssertEqual(SystemdNotification.status("a\nREADY=1\r").assignment, "STATUS=a READY=1 ")
        XCTAssertEqual(SystemdNotification.watchdog.assignment, "WATCHDOG=1")
    }

    func testAddresses() throws {
        XCTAssertNil(try SystemdNotifier.fromEnvironment([:]))
        XCTAssertNil(try SystemdNotifier.fromEnvironment(["NOTIFY_SOCKET": ""]))
        for bad in ["relative/path", "@", "vsock:2:1234", "/" + String(repeating: "a", count: 108)] {
            XCTAssertThrowsError(try SystemdNotifier(socketPath: bad)) {
                XCTAssertEqual($0 as? SystemdNotifyError, .invalidAddress(bad))
            }
        }
        XCTAssertNoThrow(try SystemdNotifier(socketPath: "/" + String(repeating: "a", count: 106)))
    }

    func testSendingToNobodyIsAnError() throws {
        let folder = try makeTemporaryFolder("notify-none")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        XCTAssertThrowsError(try SystemdNotifier(socketPath: folder + "/missing.sock").send(.ready)) {
            XCTAssertEqual($0 as? SystemdNotifyError, .sendFailed(errno: ENOENT))
        }
    }
}
