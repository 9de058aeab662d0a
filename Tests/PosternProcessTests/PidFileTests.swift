import Foundation
import Glibc
import PosternProcess
import XCTest

/// The pid file: exclusive creation, refusal while its pid lives, stale files replaced, careful removal.
final class PidFileTests: XCTestCase {
    private var folder = ""

    override func setUpWithError() throws {
        folder = try makeTemporaryFolder("pidfile")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: folder)
    }

    private func content(_ path: String) -> String? {
        try? String(contentsOfFile: path, encoding: .utf8)
    }

    func testCreateWritesThePidAndRemoveDeletesIt() throws {
        let path = folder + "/postern.pid"
        let file = try PidFile.create(path: path)
        XCTAssertEqual(content(path), "\(getpid())\n")
        XCTAssertEqual(try PidFile.readPID(path: path), getpid())
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["postern.pid"])
        XCTAssertTrue(try file.remove())
        XCTAssertNil(content(path))
        XCTAssertFalse(try file.remove())
    }

    func testALivePidIsRefused() throws {
        let path = folder + "/postern.pid"
        let parent = getppid()  // alive while the tests run
        try Data("\(parent)\n".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try PidFile.create(path: path)) {
            XCTAssertEqual($0 as? PidFileError, .alreadyRunning(path: path, pid: parent))
        }
        XCTAssertEqual(content(path), "\(parent)\n")
    }

    func testStaleAndUnreadableFilesAreReplaced() throws {
        let path = folder + "/postern.pid"
        let dead = try deadPID()
        for stale in ["\(dead)\n", "garbage", "", "\(getpid())"] {
            try Data(stale.utf8).write(to: URL(fileURLWithPath: path))
            _ = try PidFile.create(path: path)
            XCTAssertEqual(content(path), "\(getpid())\n", "replacing \(stale.debugDescription)")
        }
    }

    func testSomethingUnreadableAtThePathIsLeftAlone() throws {
        let directory = folder + "/dir.pid"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        XCTAssertThrowsError(try PidFile.create(path: directory)) {
            XCTAssertEqual($0 as? PidFileError, .cannotCreate(path: directory, errno: EISDIR))
        }
        let link = folder + "/link.pid"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: folder + "/target")
        XCTAssertThrowsError(try PidFile.create(path: link)) {
            XCTAssertEqual($0 as? PidFileError, .cannotCreate(path: link, errno: ELOOP))
        }
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: link), folder + "/target")
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/target"))
    }

    func testRemoveLeavesAFileThatNamesAnotherProcess() throws {
        let path = folder + "/postern.pid"
        let file = try PidFile.create(path: path)
        try Data("\(getppid())\n".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertFalse(try file.remove())
        XCTAssertEqual(content(path), "\(getppid())\n")
    }

    func testAMissingFolderIsACreateError() {
        let path = folder + "/missing/postern.pid"
        XCTAssertThrowsError(try PidFile.create(path: path)) {
            XCTAssertEqual($0 as? PidFileError, .cannotCreate(path: path + ".\(getpid()).tmp", errno: ENOENT))
        }
    }

    func testReadPIDRejectsWhatIsNotAPid() throws {
        let path = folder + "/x.pid"
        for bad in ["", "12 ", "-5", "0", "99999999999", "1\n2"] {
            try Data(bad.utf8).write(to: URL(fileURLWithPath: path))
            XCTAssertThrowsError(try PidFile.readPID(path: path)) {
                XCTAssertEqual($0 as? PidFileError, .invalidContent(path: path), bad.debugDescription)
            }
        }
        XCTAssertFalse(PidFile.isAlive(0))
        XCTAssertFalse(PidFile.isAlive(-1))
        XCTAssertTrue(PidFile.isAlive(getpid()))
    }

    /// The pid of a child that has exited and been reaped.
    private func deadPID() throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        return process.processIdentifier
    }
}
