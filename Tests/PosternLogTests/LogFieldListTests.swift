import Logging
import XCTest

@testable import PosternLog

/// A `LogFieldList` gives the same line as the dictionary of its fields, without the dictionary.
final class LogFieldListTests: XCTestCase {
    func testAListWritesTheSameLineAsItsDictionary() {
        for format in LogFormat.allCases {
            let sink = CapturingSink()
            let logger = makeLogger(control: LogControl(format: format), sink: sink)
            var list = LogFieldList()
            list.append("backend", "b:143")
            list.append("outcome", "backend-closed")
            list.append("user", "al\"ice\r\n")
            logger.info("session", metadata: list.metadata)
            logger.info("session", metadata: ["user": "al\"ice\r\n", "backend": "b:143", "outcome": "backend-closed"])
            XCTAssertEqual(sink.texts.count, 2)
            XCTAssertEqual(sink.texts[0], sink.texts[1], "\(format)")
        }
    }

    func testAnUnsortedListIsSortedAndTheLoggersFieldsAreMerged() {
        let sink = CapturingSink()
        var logger = makeLogger(control: LogControl(), sink: sink)
        logger[metadataKey: "shard"] = "1"
        var list = LogFieldList()
        list.append("z", "last")
        list.append("a", "first")
        XCTAssertFalse(list.isSorted)
        logger.info("x", metadata: list.metadata)
        XCTAssertEqual(sink.texts, ["ts=2026-11-30T03:29:28.123Z level=info msg=x a=first shard=1 z=last\n"])
    }

    func testOtherHandlersSeeOneLogfmtValue() {
        var list = LogFieldList()
        list.append("a", "x y")
        list.append("b", "2")
        XCTAssertEqual(list.description, #"a="x y" b=2"#)
        XCTAssertEqual(list["a"], "x y")
        XCTAssertNil(list["c"])
    }
}
