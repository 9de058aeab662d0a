import Foundation
import Logging
import XCTest

@testable import PosternLog

/// Hostile values (CR/LF, quotes, `=`, NUL, C1, U+2028) stay on one line in every format and come back intact.
final class LogEscapingTests: XCTestCase {
    private let hostile = "alice\r\nts=2026-01-01 level=error msg=\"forged\"\u{0}\tx=\\y"

    private func line(_ format: LogFormat, message: String = "login failed", user: String) -> [UInt8] {
        let sink = CapturingSink()
        let logger = makeLogger(control: LogControl(level: .info, format: format), sink: sink)
        logger.notice("\(message)", metadata: ["user": "\(user)", "client": "192.0.2.7:55360"])
        XCTAssertEqual(sink.lines.count, 1)
        return sink.lines.first ?? []
    }

    func testHostileNameStaysOnOneLineInEachFormat() {
        for format in LogFormat.allCases {
            let bytes = line(format, message: "user \(hostile) said", user: hostile)
            XCTAssertEqual(bytes.last, 0x0A, "\(format)")
            XCTAssertEqual(bytes.filter { $0 == 0x0A }.count, 1, "\(format): one LF, at the end")
            XCTAssertFalse(bytes.contains(0x0D), "\(format): no CR")
            XCTAssertFalse(bytes.contains(0x00), "\(format): no NUL")
            XCTAssertFalse(bytes.contains(0x09), "\(format): no TAB")
        }
    }

    func testLogfmtGoldenLine() {
        let text = String(decoding: line(.logfmt, user: hostile), as: UTF8.self)
        XCTAssertEqual(
            text,
            "ts=2026-11-30T03:29:28.123Z level=notice msg=\"login failed\" client=192.0.2.7:55360 "
                + #"user="alice\r\nts=2026-01-01 level=error msg=\"forged\"\u0000\tx=\\y""# + "\n")
    }

    func testLogfmtValuesRoundTrip() throws {
        let text = String(decoding: line(.logfmt, user: hostile), as: UTF8.self)
        let fields = try XCTUnwrap(parseLogfmt(text))
        XCTAssertEqual(fields.map(\.0), ["ts", "level", "msg", "client", "user"])
        XCTAssertEqual(fields.last?.1, hostile)
    }

    func testLogfmtQuotesOnlyWhenNeeded() {
        let bare = String(decoding: line(.logfmt, user: "alice@example.org"), as: UTF8.self)
        XCTAssertTrue(bare.hasSuffix(" user=alice@example.org\n"), bare)
        for (value, written) in [("", #""""#), ("a b", #""a b""#), ("a=b", #""a=b""#), ("a\"b", #""a\"b""#)] {
            let text = String(decoding: line(.logfmt, user: value), as: UTF8.self)
            XCTAssertTrue(text.hasSuffix(" user=\(written)\n"), text)
        }
    }

    func testJSONLineParsesAndKeepsTheValue() throws {
        let bytes = line(.json, message: hostile, user: hostile)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        XCTAssertEqual(object["ts"] as? String, "2026-11-30T03:29:28.123Z")
        XCTAssertEqual(object["level"] as? String, "notice")
        XCTAssertEqual(object["msg"] as? String, hostile)
        XCTAssertEqual(object["user"] as? String, hostile)
        XCTAssertEqual(object["client"] as? String, "192.0.2.7:55360")
    }

    func testJSONGoldenLine() {
        let text = String(decoding: line(.json, user: "a\"b\u{1}"), as: UTF8.self)
        XCTAssertEqual(
            text,
            #"{"ts":"2026-11-30T03:29:28.123Z","level":"notice","msg":"login failed","client":"192.0.2.7:55360","#
                + #""user":"a\"b\u0001"}"# + "\n")
    }

    func testTextGoldenLine() {
        let text = String(decoding: line(.text, message: "login\nfailed", user: hostile), as: UTF8.self)
        XCTAssertEqual(
            text,
            #"2026-11-30T03:29:28.123Z notice login\nfailed client=192.0.2.7:55360 "#
                + #"user="alice\r\nts=2026-01-01 level=error msg=\"forged\"\u0000\tx=\\y""# + "\n")
    }

    func testC1ControlsLineSeparatorsAndDELAreEscaped() throws {
        let value = "a\u{85}b\u{2028}c\u{2029}d\u{7F}e\u{9F}é€"
        let logfmt = String(decoding: line(.logfmt, user: value), as: UTF8.self)
        XCTAssertTrue(logfmt.hasSuffix(#" user="a\u0085b\u2028c\u2029d\u007fe\u009fé€""# + "\n"), logfmt)
        XCTAssertEqual(try XCTUnwrap(parseLogfmt(logfmt)).last?.1, value)
        let json = line(.json, user: value)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json)) as? [String: Any])
        XCTAssertEqual(object["user"] as? String, value)
    }

    func testLogfmtKeysAreSanitised() {
        let sink = CapturingSink()
        let logger = makeLogger(control: LogControl(format: .logfmt), sink: sink)
        logger.info("x", metadata: ["a b=\"c\n": "1", "": "2"])
        XCTAssertEqual(sink.texts, ["ts=2026-11-30T03:29:28.123Z level=info msg=x _=2 a_b__c_=1\n"])
    }
}

/// The example lines in docs/operations.md ("Log formats") are what the handler writes.
final class DocumentedLogLinesTests: XCTestCase {
    func testTheDocumentedExamples() {
        let sink = CapturingSink()
        let control = LogControl(level: .info)
        let logger = makeLogger(control: control, sink: sink)
        let metadata: Logger.Metadata = [
            "client": "192.0.2.7:55360", "listener": "imap", "mechanism": "PLAIN", "reason": "backend said NO",
            "user": "alice\r\nlevel=info msg=\"login ok\"",
        ]
        for format in [LogFormat.logfmt, .json, .text] {
            control.format = format
            logger.notice("login failed", metadata: metadata)
        }
        control.format = .logfmt
        control.priorityPrefix = true
        logger.info("reloaded configuration", metadata: ["generation": "4"])
        XCTAssertEqual(
            sink.texts,
            [
                #"ts=2026-11-30T03:29:28.123Z level=notice msg="login failed" client=192.0.2.7:55360 listener=imap mechanism=PLAIN reason="backend said NO" user="alice\r\nlevel=info msg=\"login ok\"""#
                    + "\n",
                #"{"ts":"2026-11-30T03:29:28.123Z","level":"notice","msg":"login failed","client":"192.0.2.7:55360","listener":"imap","mechanism":"PLAIN","reason":"backend said NO","user":"alice\r\nlevel=info msg=\"login ok\""}"#
                    + "\n",
                #"2026-11-30T03:29:28.123Z notice login failed client=192.0.2.7:55360 listener=imap mechanism=PLAIN reason="backend said NO" user="alice\r\nlevel=info msg=\"login ok\"""#
                    + "\n",
                #"<6>ts=2026-11-30T03:29:28.123Z level=info msg="reloaded configuration" generation=4"# + "\n",
            ])
    }
}
