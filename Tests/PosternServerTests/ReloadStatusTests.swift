import Foundation
import XCTest

@testable import PosternServer

/// The status file `postern reload` waits on: rewritten in place, read back whole.
final class ReloadStatusTests: XCTestCase {
    func testTheFileHoldsTheLastRecord() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("postern-\(UUID().uuidString).status")
            .path
        defer { unlink(path) }
        let file = try ReloadStatusFile(path: path)
        let refused = ReloadRecord(
            generation: 3, at: Date(timeIntervalSince1970: 1_700_000_000), succeeded: false,
            errors: ["postern.yaml:4:3: limits.x: unknown key", "second \"quoted\" error"], attempt: 7)
        file.write(ReloadStatus(pid: 1234, record: refused))
        XCTAssertEqual(
            ReloadStatus.read(path: path),
            ReloadStatus(pid: 1234, record: refused))
        let ok = ReloadRecord(
            generation: 4, at: Date(timeIntervalSince1970: 1_700_000_100), succeeded: true, errors: [], attempt: 8)
        file.write(ReloadStatus(pid: 1234, record: ok))
        let read = try XCTUnwrap(ReloadStatus.read(path: path))
        XCTAssertEqual(read.generation, 4)
        XCTAssertEqual(read.attempt, 8)
        XCTAssertTrue(read.succeeded)
        XCTAssertEqual(read.errors, [])
        XCTAssertEqual(read.at, 1_700_000_100)
        file.remove()
        XCTAssertNil(ReloadStatus.read(path: path))
    }

    func testAHalfWrittenFileReadsAsNothing() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("postern-\(UUID().uuidString).status")
            .path
        defer { unlink(path) }
        try Data("{\"pid\":12,\"generation\":".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertNil(ReloadStatus.read(path: path))
    }

    func testAnEmptyFileReadsAsNothing() throws {
        // The server truncates before it writes; postern reload polls and catches it empty.
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("postern-\(UUID().uuidString).status")
            .path
        defer { unlink(path) }
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: nil))
        XCTAssertNil(ReloadStatus.read(path: path))
    }

    func testARecordLongerThanOneReadIsReadWhole() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("postern-\(UUID().uuidString).status")
            .path
        defer { unlink(path) }
        let file = try ReloadStatusFile(path: path)
        let errors = (0..<200).map {
            "postern.yaml:\($0):1: listeners[\($0)].listen: port already in use by another one"
        }
        let record = ReloadRecord(
            generation: 2, at: Date(timeIntervalSince1970: 1), succeeded: false, errors: errors, attempt: 1)
        file.write(ReloadStatus(pid: 9, record: record))
        XCTAssertGreaterThan(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0, 8192)
        XCTAssertEqual(ReloadStatus.read(path: path)?.errors, errors)
    }

    func testThePathFollowsThePidFile() {
        XCTAssertEqual(ReloadStatus.path(forPidFile: "/run/postern/postern.pid"), "/run/postern/postern.pid.status")
    }
}
