import Foundation
import Glibc
import Logging
import XCTest

@testable import PosternLog

/// The fd sink writes whole lines to its descriptor, and recognises the journal stream systemd set up.
final class FileDescriptorLogSinkTests: XCTestCase {
    func testLinesArriveWholeAndInOrderOnThePipe() throws {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        defer { close(fds[0]) }
        let sink = FileDescriptorLogSink(fileDescriptor: fds[1])
        let logger = Logger(label: "t") {
            PosternLogHandler(label: $0, control: LogControl(), sink: sink, clock: .fixed(seconds: 0))
        }
        logger.info("first", metadata: ["user": "a\nb"])
        logger.warning("second")
        close(fds[1])
        let read = FileHandle(fileDescriptor: fds[0]).readDataToEndOfFile()
        XCTAssertEqual(
            String(decoding: read, as: UTF8.self),
            "ts=1970-01-01T00:00:00.000Z level=info msg=first user=\"a\\nb\"\n"
                + "ts=1970-01-01T00:00:00.000Z level=warning msg=second\n")
        XCTAssertEqual(sink.droppedLines, 0)
    }

    func testAFailedWriteCountsAsDropped() {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        defer {
            close(fds[0])
            close(fds[1])
        }
        let sink = FileDescriptorLogSink(fileDescriptor: fds[0])  // the read end: write fails with EBADF
        sink.write(line: Array("x\n".utf8))
        XCTAssertEqual(sink.droppedLines, 1)
    }

    func testJournalStreamMatchesDeviceAndInode() {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        defer {
            close(fds[0])
            close(fds[1])
        }
        var info = stat()
        XCTAssertEqual(fstat(fds[1], &info), 0)
        let matching = ["JOURNAL_STREAM": "\(info.st_dev):\(info.st_ino)"]
        XCTAssertTrue(FileDescriptorLogSink.isJournalStream(fileDescriptor: fds[1], environment: matching))
        let other = ["JOURNAL_STREAM": "\(info.st_dev):\(info.st_ino + 1)"]
        XCTAssertFalse(FileDescriptorLogSink.isJournalStream(fileDescriptor: fds[1], environment: other))
        XCTAssertFalse(FileDescriptorLogSink.isJournalStream(fileDescriptor: fds[1], environment: [:]))
        XCTAssertFalse(
            FileDescriptorLogSink.isJournalStream(fileDescriptor: fds[1], environment: ["JOURNAL_STREAM": "x"]))
    }
}
