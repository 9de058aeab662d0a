import Foundation
import Glibc
import XCTest

@testable import PosternProcess

/// Whether `server.user` can read a key: the owner, group and others bits, and the folders on the way.
final class FileAccessTests: XCTestCase {
    private let stranger = ProcessIdentity(userName: "stranger", uid: 4242, gid: 4343, groups: [4343, 4444])

    func testModeBitsDecideForOwnerGroupAndOthers() throws {
        guard geteuid() == 0 else { throw XCTSkip("needs root to give files away") }
        let folder = try makeTemporaryFolder("file-access")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        chmod(folder, 0o755)
        let key = folder + "/proxy.key"
        XCTAssertTrue(FileManager.default.createFile(atPath: key, contents: Data("key\n".utf8)))
        XCTAssertEqual(chown(key, 0, 0), 0)
        XCTAssertEqual(chmod(key, 0o640), 0)
        XCTAssertFalse(FileAccess.canRead(key, as: stranger), "root:root 0640")
        XCTAssertFalse(FileAccess.othersCanRead(key))
        XCTAssertEqual(chown(key, 0, 4444), 0)
        XCTAssertTrue(FileAccess.canRead(key, as: stranger), "root:(a supplementary group) 0640")
        XCTAssertEqual(chmod(key, 0o600), 0)
        XCTAssertFalse(FileAccess.canRead(key, as: stranger), "root 0600")
        XCTAssertEqual(chown(key, 4242, 0), 0)
        XCTAssertTrue(FileAccess.canRead(key, as: stranger), "its own 0600")
        XCTAssertEqual(chown(key, 0, 0), 0)
        XCTAssertEqual(chmod(key, 0o644), 0)
        XCTAssertTrue(FileAccess.canRead(key, as: stranger), "0644")
        XCTAssertTrue(FileAccess.othersCanRead(key))
        XCTAssertEqual(FileAccess.mode(key), 0o644)
        XCTAssertTrue(FileAccess.canRead(key, as: ProcessIdentity(userName: "root", uid: 0, gid: 0, groups: [0])))
    }

    func testAFolderOnTheWayThatCannotBeSearchedHidesTheFile() throws {
        guard geteuid() == 0 else { throw XCTSkip("needs root to give files away") }
        let folder = try makeTemporaryFolder("file-access-folder")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let key = folder + "/proxy.key"
        XCTAssertTrue(FileManager.default.createFile(atPath: key, contents: Data("key\n".utf8)))
        XCTAssertEqual(chmod(key, 0o644), 0)
        XCTAssertEqual(chmod(folder, 0o700), 0)
        XCTAssertFalse(FileAccess.canRead(key, as: stranger))
        XCTAssertEqual(chmod(folder, 0o711), 0)
        XCTAssertTrue(FileAccess.canRead(key, as: stranger))
    }

    func testAMissingFileIsNotReadable() {
        XCTAssertFalse(FileAccess.canRead("/nonexistent/postern/key", as: stranger))
        XCTAssertFalse(FileAccess.othersCanRead("/nonexistent/postern/key"))
        XCTAssertNil(FileAccess.mode("/nonexistent/postern/key"))
    }
}
