import XCTest

@testable import PosternProtocol

/// Literals (RFC 9051 §4.3, RFC 7888) and the bounds on lines, literals and whole commands.
final class IMAPCommandReaderLiteralTests: XCTestCase {
    private let login = command("a", "LOGIN", [string("alice"), string("secret")])

    // MARK: Synchronizing literals

    func testSynchronizingLiteralsAskForContinuationOncePerLiteral() {
        var reader = IMAPCommandReader(maxLine: 8192)
        XCTAssertEqual(reader.feed("a LOGIN {5}\r\n"), [.continuationNeeded])
        XCTAssertEqual(reader.feed(""), [], "no second continuation for the same literal")
        XCTAssertEqual(reader.feed("ali"), [])
        XCTAssertEqual(reader.feed("ce {6}\r\n"), [.continuationNeeded])
        XCTAssertEqual(reader.feed("secret"), [])
        XCTAssertEqual(reader.feed("\r\n"), [login])
        XCTAssertEqual(reader.bufferedCount, 0)
    }

    func testSynchronizingLiteralsFedByteByByte() {
        let wire = bytes("a LOGIN {5}\r\nalice {6}\r\nsecret\r\n")
        var reader = IMAPCommandReader(maxLine: 8192)
        var events: [(Int, IMAPCommandReader.Event)] = []
        for (index, byte) in wire.enumerated() {
            for event in reader.feed([byte]) { events.append((index, event)) }
        }
        XCTAssertEqual(events.map(\.1), [.continuationNeeded, .continuationNeeded, login])
        let lineFeeds = wire.indices.filter { wire[$0] == 10 }
        XCTAssertEqual(lineFeeds, [12, 23, 31])
        XCTAssertEqual(events.map(\.0), lineFeeds, "each event right after the LF that makes it possible")
    }

    func testLiteralDataIsNotScannedForLineEndsOrBraces() {
        var reader = IMAPCommandReader(maxLine: 8192)
        XCTAssertEqual(reader.feed("a LOGIN {9}\r\n"), [.continuationNeeded])
        XCTAssertEqual(
            reader.feed("a\r\nb{1}\r\n \"pw\"\r\n"), [command("a", "LOGIN", [string("a\r\nb{1}\r\n"), string("pw")])])
    }

    func testEmptyLiteral() {
        var reader = IMAPCommandReader(maxLine: 8192)
        XCTAssertEqual(reader.feed("a LOGIN {0}\r\n"), [.continuationNeeded])
        XCTAssertEqual(reader.feed(" pw\r\n"), [command("a", "LOGIN", [string(""), .atom("pw")])])
    }

    func testLiteralsAreRefusedForOtherCommandsBeforeTheContinuation() {
        var reader = IMAPCommandReader(maxLine: 8192)
        XCTAssertEqual(
            reader.feed("a SELECT {5}\r\n"), [.bad(tag: "a", reason: "Literal not allowed for this command")])
        XCTAssertEqual(reader.feed("+x LOGIN {5}\r\n"), [.bad(tag: nil, reason: "Invalid tag")])
        XCTAssertEqual(reader.bufferedCount, 0)
        XCTAssertEqual(reader.feed("b NOOP\r\n"), [command("b", "NOOP")])
    }

    func testRefusedHeaderDropsTheWholeCommandIncludingEarlierLiteralData() {
        // The data of the earlier non-synchronizing literal must not be read as a command.
        var reader = IMAPCommandReader(maxLine: 8192)
        XCTAssertEqual(
            reader.feed("a FOO {8+}\r\nb NOOP\r\n {1}\r\n"),
            [.bad(tag: "a", reason: "Literal not allowed for this command")])
        XCTAssertEqual(reader.bufferedCount, 0)
        XCTAssertEqual(reader.feed("c NOOP\r\n"), [command("c", "NOOP")])
    }

    // MARK: Non-synchronizing literals

    func testNonSynchronizingLiteralsNeedNoContinuation() {
        let wire = bytes("a LOGIN {5+}\r\nalice {6+}\r\nsecret\r\n")
        for sizes in [[wire.count], [1], [2, 3], [13], [14, 1]] {
            var reader = IMAPCommandReader(maxLine: 8192)
            XCTAssertEqual(reader.feed(wire, chunkSizes: sizes), [login], "chunks \(sizes)")
        }
    }

    func testMixedLiteralsAskOnlyForTheSynchronizingOne() {
        var reader = IMAPCommandReader(maxLine: 8192)
        XCTAssertEqual(reader.feed("a LOGIN {5+}\r\nalice {6}\r\n"), [.continuationNeeded])
        XCTAssertEqual(reader.feed("secret\r\n"), [login])
    }

    func testTwoLiteralsThenPipelinedCommandStaysBuffered() {
        var reader = IMAPCommandReader(maxLine: 8192)
        XCTAssertEqual(reader.feed("a LOGIN {5+}\r\nalice {6+}\r\nsecret\r\nb NOOP\r\n").first, login)
        var second = IMAPCommandReader(maxLine: 8192)
        second.append(bytes("a LOGIN {5+}\r\nalice {6+}\r\nsecret\r\nb NOOP\r\n"))
        XCTAssertEqual(second.next(), login)
        XCTAssertEqual(second.takeBuffered(), bytes("b NOOP\r\n"))
    }

    func testALiteralHeaderMustBeTheWholeArgument() {
        var reader = IMAPCommandReader(maxLine: 8192)
        XCTAssertEqual(reader.feed("a LOGIN {x{3}\r\n"), [.continuationNeeded])
        XCTAssertEqual(reader.feed("abc pw\r\n"), [.bad(tag: "a", reason: "Invalid literal")])
        XCTAssertEqual(reader.feed("b LOGIN {3} pw\r\n"), [.bad(tag: "b", reason: "Invalid literal")])
    }

    // MARK: Bounds

    func testLiteralOfExactlyMaxLineIsAccepted() {
        var reader = IMAPCommandReader(maxLine: 64)
        let data = String(repeating: "x", count: 64)
        XCTAssertEqual(reader.feed("a LOGIN {64}\r\n"), [.continuationNeeded])
        XCTAssertEqual(reader.feed(data + " pw\r\n"), [command("a", "LOGIN", [string(data), .atom("pw")])])
    }

    func testSynchronizingLiteralLargerThanMaxLineIsTooLongAndRecoverable() {
        var reader = IMAPCommandReader(maxLine: 64)
        XCTAssertEqual(reader.feed("a LOGIN {65}\r\n"), [.tooLong(tag: "a")])
        XCTAssertEqual(reader.bufferedCount, 0)
        XCTAssertEqual(reader.feed("b NOOP\r\n"), [command("b", "NOOP")])
        XCTAssertEqual(reader.feed("c LOGIN {99999999999}\r\n"), [.bad(tag: "c", reason: "Invalid literal")])
        XCTAssertEqual(reader.feed("d LOGIN {9999999999}\r\n"), [.tooLong(tag: "d")])
    }

    func testNonSynchronizingLiteralLargerThanMaxLineIsUnrecoverable() {
        // Its data is already on the way and cannot be told from commands: the caller must close.
        var reader = IMAPCommandReader(maxLine: 64)
        let data = String(repeating: "b NOOP\r\n", count: 9)
        XCTAssertEqual(
            reader.feed("a LOGIN {72+}\r\n" + data), [.unrecoverable(tag: "a", reason: "Literal too large")])
        XCTAssertEqual(reader.feed("c NOOP\r\n"), [], "nothing more is read")
        XCTAssertEqual(reader.bufferedCount, 0)
    }

    func testWholeCommandIsBoundedToFourLines() {
        var reader = IMAPCommandReader(maxLine: 64)
        XCTAssertEqual(reader.maxCommand, 256)
        let value = String(repeating: "v", count: 60)
        let header = "a ID (\"k\" {60+}\r\n\(value) \"x\" {60+}\r\n\(value) \"y\" {60+}\r\n\(value) \"z\" "
        XCTAssertEqual(reader.feed(header), [])
        XCTAssertLessThanOrEqual(reader.bufferedCount, 256)
        XCTAssertEqual(reader.feed(String(repeating: "w", count: 40)), [.tooLong(tag: "a")])
        XCTAssertEqual(reader.bufferedCount, 0)
        XCTAssertEqual(reader.discardedBytes, 266)
        XCTAssertEqual(reader.feed("w\"\r\nb NOOP\r\n"), [command("b", "NOOP")], "dropped through the line end")
    }

    func testCommandBoundIsTheSameWhateverTheChunking() {
        let value = String(repeating: "v", count: 60)
        let wire = bytes(
            "a ID (\"k\" {60+}\r\n\(value) \"x\" {60+}\r\n\(value) \"y\" {60+}\r\n\(value) \"z\" \"\(value.prefix(33))\")\r\nb NOOP\r\n"
        )
        for sizes in [[wire.count], [1], [5, 7], [100]] {
            var reader = IMAPCommandReader(maxLine: 64)
            XCTAssertEqual(
                reader.feed(wire, chunkSizes: sizes), [.tooLong(tag: "a"), command("b", "NOOP")], "\(sizes)")
        }
    }

    func testLiteralPastTheCommandBound() {
        let value = String(repeating: "v", count: 60)
        let prefix = "a ID (\"k\" {60+}\r\n\(value) \"x\" {60+}\r\n\(value) \"y\" {60+}\r\n\(value) \"z\" "
        var nonSync = IMAPCommandReader(maxLine: 64)
        XCTAssertEqual(nonSync.feed(prefix + "{60+}\r\n"), [.unrecoverable(tag: "a", reason: "Literal too large")])
        var sync = IMAPCommandReader(maxLine: 64)
        XCTAssertEqual(sync.feed(prefix + "{60}\r\n"), [.tooLong(tag: "a")])
        XCTAssertEqual(sync.feed("b NOOP\r\n"), [command("b", "NOOP")])
    }

    func testTooManyLiteralsIsUnrecoverable() {
        var reader = IMAPCommandReader(maxLine: 8192)
        let many = "a ID (" + String(repeating: "{0+}\r\n ", count: 40) + ")\r\n"
        XCTAssertEqual(reader.feed(many), [.unrecoverable(tag: "a", reason: "Too many literals")])
        var fewer = IMAPCommandReader(maxLine: 8192)
        let most = "a ID (" + Array(repeating: "{1+}\r\nx", count: 32).joined(separator: " ") + ")\r\n"
        XCTAssertEqual(fewer.feed(most), [command("a", "ID", [.list(Array(repeating: string("x"), count: 32))])])
    }

    func testOverlongLineWithoutLineEndIsTooLongAndDiscardedUntilLF() {
        var reader = IMAPCommandReader(maxLine: 64)
        XCTAssertEqual(reader.feed("a NOOP " + String(repeating: "x", count: 100)), [.tooLong(tag: "a")])
        XCTAssertEqual(reader.discardedBytes, 107)
        XCTAssertEqual(reader.bufferedCount, 0)
        XCTAssertEqual(reader.feed(String(repeating: "y", count: 500)), [], "still inside the overlong line")
        XCTAssertEqual(reader.feed("z NOOP\r"), [])
        XCTAssertEqual(reader.discardedBytes, 614)
        XCTAssertEqual(reader.feed("\nb NOOP\r\n"), [command("b", "NOOP")])
        XCTAssertEqual(reader.discardedBytes, 0)
    }

    func testOverlongLineWithItsLineEndInTheSameChunk() {
        var reader = IMAPCommandReader(maxLine: 64)
        let events = reader.feed("a " + String(repeating: "x", count: 100) + "\r\nb NOOP\r\n")
        XCTAssertEqual(events, [.tooLong(tag: "a"), command("b", "NOOP")])
        var untagged = IMAPCommandReader(maxLine: 64)
        XCTAssertEqual(untagged.feed(String(repeating: "+", count: 100) + "\n"), [.tooLong(tag: nil)])
    }

    func testOverlongLineAfterALiteralDropsTheWholeCommand() {
        // The literal's data ("b NOOP") must not come back as a command once the long line is dropped.
        let wire = bytes("a LOGIN {8+}\r\nb NOOP\r\n" + String(repeating: "x", count: 100) + "\r\nc NOOP\r\n")
        for sizes in [[wire.count], [40], [7, 13], [1]] {
            var reader = IMAPCommandReader(maxLine: 64)
            XCTAssertEqual(
                reader.feed(wire, chunkSizes: sizes), [.tooLong(tag: "a"), command("c", "NOOP")], "\(sizes)")
        }
    }

    func testLinesJustUnderTheBoundAreAccepted() {
        var reader = IMAPCommandReader(maxLine: 64)
        let line = "a LOGIN u " + String(repeating: "p", count: 52)
        XCTAssertEqual(line.utf8.count, 62)
        let expected = command("a", "LOGIN", [.atom("u"), .atom(String(repeating: "p", count: 52))])
        XCTAssertEqual(reader.feed(bytes(line + "\r\n"), chunkSizes: [1]), [expected])
        XCTAssertEqual(reader.feed(line + "\r\n"), [expected])
        XCTAssertEqual(reader.feed(line + "xyz\r\n"), [.tooLong(tag: "a")])
    }
}
