import XCTest

@testable import PosternProtocol

/// Where a farewell may go in a relayed server stream: line ends outside literals and outside POP3
/// multi-line responses, whatever the split of the bytes.
final class ResponseBoundaryTrackerTests: XCTestCase {
    /// Offsets (bytes fed) after which the stream is between two responses.
    private func boundaries(_ dialect: MailDialect, client: String = "", _ server: String) -> [Int] {
        var tracker = ResponseBoundaryTracker(dialect: dialect)
        tracker.clientSent(Array(client.utf8))
        var found: [Int] = []
        for (index, byte) in Array(server.utf8).enumerated() {
            tracker.serverSent([byte])
            if tracker.isAtBoundary { found.append(index + 1) }
        }
        return found
    }

    /// The offsets where each of these consecutive responses ends.
    private func ends(of responses: [String]) -> [Int] {
        var total = 0
        return responses.map {
            total += $0.utf8.count
            return total
        }
    }

    /// Splits the stream at every offset: the first part fed whole, the second through `feedToBoundary`,
    /// which must stop right after the first boundary that follows (or report none).
    private func assertEverySplit(
        _ dialect: MailDialect, client: String = "", _ server: String, expected: [Int],
        file: StaticString = #filePath, line: UInt = #line
    ) {
        let bytes = Array(server.utf8)
        XCTAssertEqual(boundaries(dialect, client: client, server), expected, "byte by byte", file: file, line: line)
        for split in 0...bytes.count {
            var tracker = ResponseBoundaryTracker(dialect: dialect)
            tracker.clientSent(Array(client.utf8))
            bytes[..<split].withUnsafeBytes { tracker.serverSent($0) }
            XCTAssertEqual(
                tracker.isAtBoundary, split == 0 || expected.contains(split), "at \(split)", file: file, line: line)
            let fed = bytes[split...].withUnsafeBytes { tracker.feedToBoundary($0) }
            let next = split == 0 || expected.contains(split) ? split : expected.first(where: { $0 > split })
            XCTAssertEqual(fed.map { $0 + split }, next, "split at \(split)", file: file, line: line)
        }
    }

    func testIMAPLinesAreBoundariesAndAPartialLineIsNot() {
        let stream = "* 3 EXISTS\r\n* 1 RECENT\r\n* 4 EXI"
        assertEverySplit(.imap, stream, expected: [12, 24])
    }

    func testALiteralHidesTheLineEndsInsideIt() {
        // The literal holds a CRLF and a line that looks like a response; the FETCH ends after `)`.
        let literal = "x\r\n* BYE\r\n"
        let stream = "* 1 FETCH (BODY[] {\(literal.utf8.count)}\r\n\(literal))\r\na OK done\r\n"
        let fetchEnd = stream.utf8.count - "a OK done\r\n".utf8.count
        assertEverySplit(.imap, stream, expected: [fetchEnd, stream.utf8.count])
    }

    func testTwoLiteralsInOneLineAndTheOtherLiteralForms() {
        let stream = "* 1 FETCH (BODY[1] {2}\r\nab BINARY[2] ~{3}\r\ncde X {1+}\r\nf Y {0}\r\n)\r\n"
        assertEverySplit(.imap, stream, expected: [stream.utf8.count])
    }

    func testBracesThatAreNotALiteralAnnouncement() {
        let stream = "* OK {x}\r\n* OK {12a}\r\n* OK }\r\n"
        assertEverySplit(.imap, stream, expected: [10, 22, 30])
    }

    func testAnOverlongLiteralSizeNeverEnds() {
        let stream = "* 1 FETCH (BODY[] {123456789012345678901234}\r\nabc\r\n"
        assertEverySplit(.imap, stream, expected: [])
    }

    func testAfterCOMPRESSTheStreamIsNotFollowed() {
        var tracker = ResponseBoundaryTracker(dialect: .imap)
        tracker.clientSent(Array("c1 compress DEFLATE\r\n".utf8))
        tracker.serverSent(Array("c1 OK Begin compression.\r\n".utf8))
        XCTAssertTrue(tracker.isLost)
        XCTAssertFalse(tracker.isAtBoundary)
        XCTAssertNil(Array("* 1 EXISTS\r\n".utf8).withUnsafeBytes { tracker.feedToBoundary($0) })
    }

    func testManageSieveScriptLiteral() {
        let script = "require \"fileinto\";\r\nOK\r\n"
        let stream = "{\(script.utf8.count)}\r\n\(script)\r\nOK \"Getscript completed.\"\r\n"
        let afterLiteral = "{\(script.utf8.count)}\r\n\(script)\r\n".utf8.count
        assertEverySplit(.managesieve, stream, expected: [afterLiteral, stream.utf8.count])
    }

    func testPOP3MultilineResponseEndsAtTheDotLine() {
        let stream = "+OK 12 octets\r\nline one\r\n..dotted\r\n.\r\n+OK\r\n"
        let dotEnd = stream.utf8.count - "+OK\r\n".utf8.count
        assertEverySplit(.pop3, client: "RETR 1\r\nNOOP\r\n", stream, expected: [dotEnd, stream.utf8.count])
    }

    func testPOP3SingleLineAnswersAndErrorsToMultilineCommands() {
        let replies = ["+OK 1 200\r\n", "-ERR no such message\r\n", "+OK\r\n"]
        assertEverySplit(
            .pop3, client: "LIST 1\r\nRETR 9\r\nNOOP\r\n", replies.joined(), expected: ends(of: replies))
    }

    func testPOP3ListAndUidlWithoutArgumentAndCapaArePipelined() {
        let replies = ["+OK\r\n1 10\r\n.\r\n", "+OK\r\n1 abc\r\n.\r\n", "+OK\r\nTOP\r\n.\r\n"]
        assertEverySplit(
            .pop3, client: "list\r\nUIDL\r\nCAPA\r\n", replies.joined(), expected: ends(of: replies))
    }

    func testPOP3DoesNotReadBracesAsLiterals() {
        assertEverySplit(.pop3, client: "NOOP\r\n", "+OK {5}\r\n", expected: [9])
    }

    func testPOP3CommandsSplitAcrossReadsAreCounted() {
        var tracker = ResponseBoundaryTracker(dialect: .pop3)
        tracker.clientSent(Array("RE".utf8))
        tracker.clientSent(Array("TR 1\r".utf8))
        tracker.clientSent(Array("\n".utf8))
        tracker.serverSent(Array("+OK\r\nbody\r\n".utf8))
        XCTAssertFalse(tracker.isAtBoundary)
        tracker.serverSent(Array(".\r\n".utf8))
        XCTAssertTrue(tracker.isAtBoundary)
    }

    func testTooManyUnansweredPOP3CommandsLoseTrack() {
        var tracker = ResponseBoundaryTracker(dialect: .pop3)
        tracker.clientSent(Array(String(repeating: "NOOP\r\n", count: ClientCommandWatcher.maxPending + 1).utf8))
        XCTAssertTrue(tracker.isLost)
        tracker.serverSent(Array("+OK\r\n".utf8))
        XCTAssertFalse(tracker.isAtBoundary)
    }

    func testFarewellWording() {
        XCTAssertEqual(MailDialect.imap.farewell("Bye."), Array("* BYE Bye.\r\n".utf8))
        XCTAssertEqual(MailDialect.pop3.farewell("Bye."), Array("-ERR Bye.\r\n".utf8))
        XCTAssertEqual(MailDialect.managesieve.farewell("Bye."), Array("BYE \"Bye.\"\r\n".utf8))
    }
}
