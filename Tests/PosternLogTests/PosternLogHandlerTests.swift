import Foundation
import Logging
import XCTest

@testable import PosternLog

/// The handler: level and format from the shared control, field order, metadata merging, priority prefix.
final class PosternLogHandlerTests: XCTestCase {
    func testLevelChangeOnTheControlTakesEffectForExistingLoggers() {
        let sink = CapturingSink()
        let control = LogControl(level: .info, format: .logfmt)
        let logger = makeLogger(control: control, sink: sink)
        logger.debug("hidden")
        XCTAssertEqual(sink.lines.count, 0)
        control.level = .debug
        XCTAssertEqual(logger.logLevel, .debug)
        logger.debug("shown")
        control.level = .error
        logger.warning("hidden too")
        logger.error("shown too")
        XCTAssertEqual(
            sink.texts,
            [
                "ts=2026-11-30T03:29:28.123Z level=debug msg=shown\n",
                "ts=2026-11-30T03:29:28.123Z level=error msg=\"shown too\"\n",
            ])
    }

    func testSettingALoggersLevelPinsOnlyThatLogger() {
        let sink = CapturingSink()
        let control = LogControl(level: .info)
        var pinned = makeLogger(control: control, sink: sink)
        pinned.logLevel = .trace
        let shared = makeLogger(control: control, sink: sink)
        pinned.trace("a")
        shared.debug("b")
        control.level = .critical
        pinned.debug("c")
        XCTAssertEqual(
            sink.texts,
            ["ts=2026-11-30T03:29:28.123Z level=trace msg=a\n", "ts=2026-11-30T03:29:28.123Z level=debug msg=c\n"])
    }

    func testFormatChangeOnTheControlTakesEffect() {
        let sink = CapturingSink()
        let control = LogControl(format: .logfmt)
        let logger = makeLogger(control: control, sink: sink)
        logger.info("one")
        control.format = .json
        logger.info("two")
        control.format = .text
        logger.info("three")
        XCTAssertEqual(
            sink.texts,
            [
                "ts=2026-11-30T03:29:28.123Z level=info msg=one\n",
                #"{"ts":"2026-11-30T03:29:28.123Z","level":"info","msg":"two"}"# + "\n",
                "2026-11-30T03:29:28.123Z info three\n",
            ])
    }

    func testFieldsAreSortedAndARecordsValueWinsOverTheLoggers() {
        let sink = CapturingSink()
        var logger = makeLogger(control: LogControl(), sink: sink)
        logger[metadataKey: "session"] = "3"
        logger[metadataKey: "listener"] = "imap"
        logger.info("session", metadata: ["user": "bob", "listener": "pop3", "backend": "b:143", "msg": "m"])
        logger.info("plain")
        XCTAssertEqual(
            sink.texts,
            [
                "ts=2026-11-30T03:29:28.123Z level=info msg=session backend=b:143 listener=pop3 _msg=m session=3 user=bob\n",
                "ts=2026-11-30T03:29:28.123Z level=info msg=plain listener=imap session=3\n",
            ])
    }

    func testMetadataProviderFieldsAreIncluded() {
        let sink = CapturingSink()
        let provider = Logger.MetadataProvider { ["shard": "1"] }
        let logger = Logger(label: "postern") { label in
            PosternLogHandler(
                label: label, control: LogControl(), sink: sink, clock: .fixed(seconds: 0), metadataProvider: provider)
        }
        logger.info("x", metadata: ["a": "b"])
        XCTAssertEqual(sink.texts, ["ts=1970-01-01T00:00:00.000Z level=info msg=x a=b shard=1\n"])
    }

    func testJSONWritesNumbersBooleansArraysAndObjects() throws {
        let sink = CapturingSink()
        let logger = makeLogger(control: LogControl(format: .json), sink: sink)
        logger.info(
            "x",
            metadata: [
                "n": .stringConvertible(42), "ok": .stringConvertible(true), "s": "42",
                "list": .array(["a", .stringConvertible(1.5)]), "map": .dictionary(["z": "1", "a": "2"]),
            ])
        let line = try XCTUnwrap(sink.texts.first)
        XCTAssertEqual(
            line,
            #"{"ts":"2026-11-30T03:29:28.123Z","level":"info","msg":"x","list":["a",1.5],"map":{"a":"2","z":"1"},"#
                + #""n":42,"ok":true,"s":"42"}"# + "\n")
        XCTAssertNotNil(try JSONSerialization.jsonObject(with: Data(line.utf8)))
    }

    func testNestedValuesInLogfmtAreOneQuotedValue() {
        let sink = CapturingSink()
        let logger = makeLogger(control: LogControl(format: .logfmt), sink: sink)
        logger.info("x", metadata: ["list": .array(["a b", "c"])])
        XCTAssertEqual(sink.texts, [#"ts=2026-11-30T03:29:28.123Z level=info msg=x list="[\"a b\",\"c\"]""# + "\n"])
    }

    func testPriorityPrefixFollowsTheLevel() {
        let sink = CapturingSink()
        let control = LogControl(level: .trace, format: .text, priorityPrefix: true)
        let logger = makeLogger(control: control, sink: sink)
        for level in Logger.Level.allCases { logger.log(level: level, "m") }
        control.priorityPrefix = false
        logger.info("m")
        XCTAssertEqual(
            sink.texts.map { String($0.prefix(while: { $0 != " " })) },
            [
                "<7>2026-11-30T03:29:28.123Z", "<7>2026-11-30T03:29:28.123Z", "<6>2026-11-30T03:29:28.123Z",
                "<5>2026-11-30T03:29:28.123Z", "<4>2026-11-30T03:29:28.123Z", "<3>2026-11-30T03:29:28.123Z",
                "<2>2026-11-30T03:29:28.123Z", "2026-11-30T03:29:28.123Z",
            ])
    }

    func testAnErrorIsWrittenAsTheErrorField() {
        struct Failure: Error, CustomStringConvertible { var description: String { "boom\nbang" } }
        let sink = CapturingSink()
        let handler = PosternLogHandler(label: "t", control: LogControl(), sink: sink, clock: .fixed(seconds: 0))
        handler.log(
            event: LogEvent(
                level: .error, message: "failed", error: Failure(), metadata: nil, source: "s", file: "f",
                function: "g", line: 1))
        XCTAssertEqual(sink.texts, [#"ts=1970-01-01T00:00:00.000Z level=error msg=failed error="boom\nbang""# + "\n"])
    }

    func testTimestampsAreRFC3339UTCWithMilliseconds() {
        func stamp(_ seconds: Int64, _ nanoseconds: Int64 = 0) -> String {
            var out: [UInt8] = []
            LogTimestamp.append(seconds: seconds, nanoseconds: nanoseconds, to: &out)
            return String(decoding: out, as: UTF8.self)
        }
        XCTAssertEqual(stamp(0), "1970-01-01T00:00:00.000Z")
        XCTAssertEqual(stamp(1_796_009_368, 123_999_999), "2026-11-30T03:29:28.123Z")
        XCTAssertEqual(stamp(1_709_251_199, 5_000_000), "2024-02-29T23:59:59.005Z")
        XCTAssertEqual(stamp(-1, 999_000_000), "1969-12-31T23:59:59.999Z")
        XCTAssertEqual(stamp(253_402_300_799), "9999-12-31T23:59:59.000Z")
    }
}
