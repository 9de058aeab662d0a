import Glibc
import PosternProcess
import XCTest

/// Resolving `server.user` / `server.group`, and dropping to them (in a forked child, as root).
final class PrivilegeDropTests: XCTestCase {
    func testResolvingNames() throws {
        XCTAssertNil(try ProcessIdentity.resolve(user: nil, group: nil))
        let root = try XCTUnwrap(try ProcessIdentity.resolve(user: "root", group: nil))
        XCTAssertEqual(root.userName, "root")
        XCTAssertEqual(root.uid, 0)
        XCTAssertEqual(root.gid, 0)
        XCTAssertEqual(root.groups.first, 0)
        let nobody = try XCTUnwrap(try ProcessIdentity.resolve(user: "nobody", group: "nogroup"))
        XCTAssertEqual(nobody.uid, 65_534)
        XCTAssertEqual(nobody.gid, 65_534)
        XCTAssertEqual(nobody.groups, [65_534])
        let numeric = try XCTUnwrap(try ProcessIdentity.resolve(user: "65534", group: "0"))
        XCTAssertEqual(numeric.userName, "nobody")
        XCTAssertEqual(numeric.gid, 0)
        let groupOnly = try XCTUnwrap(try ProcessIdentity.resolve(user: nil, group: "nogroup"))
        XCTAssertNil(groupOnly.userName)
        XCTAssertEqual(groupOnly.uid, getuid())
        XCTAssertEqual(groupOnly.groups, [65_534])
    }

    func testUnknownNamesAreTypedErrors() {
        XCTAssertThrowsError(try ProcessIdentity.resolve(user: "no-such-user-postern", group: nil)) {
            XCTAssertEqual($0 as? PrivilegeDropError, .unknownUser("no-such-user-postern"))
        }
        XCTAssertThrowsError(try ProcessIdentity.resolve(user: "root", group: "no-such-group-postern")) {
            XCTAssertEqual($0 as? PrivilegeDropError, .unknownGroup("no-such-group-postern"))
        }
    }

    func testDroppingToTheCurrentIdentityChangesNothing() throws {
        guard geteuid() != 0 else { throw XCTSkip("as root this would really drop (see the forked test)") }
        let current = ProcessIdentity(userName: "me", uid: geteuid(), gid: getegid(), groups: [getegid()])
        XCTAssertNoThrow(try PrivilegeDrop.apply(current))
        let other = ProcessIdentity(userName: "x", uid: geteuid() + 1, gid: getegid(), groups: [])
        XCTAssertThrowsError(try PrivilegeDrop.apply(other)) {
            XCTAssertEqual($0 as? PrivilegeDropError, .notRoot(uid: UInt32(geteuid())))
        }
    }

    /// As root: a forked child drops to nobody:nogroup and reports its ids and whether root came back.
    func testAForkedChildDropsToNobody() throws {
        guard geteuid() == 0 else { throw XCTSkip("needs root") }
        let identity = try XCTUnwrap(try ProcessIdentity.resolve(user: "nobody", group: "nogroup"))
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        let child = fork()
        if child == 0 {
            // The child only calls async-signal-safe functions and allocates nothing.
            var report: (UInt32, UInt32, UInt32, UInt32, Int32, Int32) = (9, 9, 9, 9, 9, 9)
            do {
                try PrivilegeDrop.apply(identity)
                var groups: (gid_t, gid_t, gid_t, gid_t) = (0, 0, 0, 0)
                let groupCount = withUnsafeMutableBytes(of: &groups) {
                    getgroups(4, $0.baseAddress!.assumingMemoryBound(to: gid_t.self))
                }
                report = (getuid(), geteuid(), getgid(), getegid(), groupCount, setuid(0))
            } catch {
                report.4 = -2
            }
            _ = withUnsafeBytes(of: &report) { write(fds[1], $0.baseAddress, $0.count) }
            _exit(0)
        }
        close(fds[1])
        defer { close(fds[0]) }
        var report: (UInt32, UInt32, UInt32, UInt32, Int32, Int32) = (0, 0, 0, 0, 0, 0)
        let count = withUnsafeMutableBytes(of: &report) { read(fds[0], $0.baseAddress, $0.count) }
        var status: Int32 = 0
        waitpid(child, &status, 0)
        XCTAssertEqual(count, MemoryLayout.size(ofValue: report))
        XCTAssertEqual(report.0, 65_534, "uid")
        XCTAssertEqual(report.1, 65_534, "euid")
        XCTAssertEqual(report.2, 65_534, "gid")
        XCTAssertEqual(report.3, 65_534, "egid")
        XCTAssertEqual(report.4, 1, "one supplementary group")
        XCTAssertEqual(report.5, -1, "setuid(0) must fail after the drop")
        XCTAssertEqual(getuid(), 0, "the test process itself is untouched")
    }
}
