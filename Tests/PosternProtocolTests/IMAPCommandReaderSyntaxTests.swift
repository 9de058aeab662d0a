import XCTest

@testable import PosternProtocol

/// Command syntax: tags, atoms, quoted strings, lists, line endings and what stays buffered.
final class IMAPCommandReaderSyntaxTests: XCTestCase {
    private var reader = IMAPCommandReader(maxLine: 8192)

    override func setUp() {
        reader = IMAPCommandReader(maxLine: 8192)
    }

    // MARK: Atoms and names

    func testAtomsAndUppercasedCommandName() {
        XCTAssertEqual(
            reader.feed("a1 LOGIN alice s3cr3t\r\n"), [command("a1", "LOGIN", [.atom("alice"), .atom("s3cr3t")])])
        XCTAssertEqual(reader.feed("a2 noop\r\n"), [command("a2", "NOOP")])
        XCTAssertEqual(reader.feed("a3 Capability\r\n"), [command("a3", "CAPABILITY")])
        XCTAssertEqual(reader.feed("a4 ID NIL\r\n"), [command("a4", "ID", [.atom("NIL")])])
    }

    func testAtomsMayCarryUTF8AndBase64() {
        XCTAssertEqual(
            reader.feed("t LOGIN jürgen@exämple.org p=+/w\r\n"),
            [command("t", "LOGIN", [.atom("jürgen@exämple.org"), .atom("p=+/w")])])
        XCTAssertEqual(
            reader.feed("t AUTHENTICATE PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm\r\n"),
            [command("t", "AUTHENTICATE", [.atom("PLAIN"), .atom("AHRpbQB0YW5zdGFhZnRhbnN0YWFm")])])
    }

    func testAtomsRejectSpecialCharacters() {
        XCTAssertEqual(reader.feed("a LOGIN al\"ice pw\r\n"), [.bad(tag: "a", reason: "Invalid character in atom")])
        XCTAssertEqual(reader.feed("b LOGIN al(ice pw\r\n"), [.bad(tag: "b", reason: "Invalid character in atom")])
        XCTAssertEqual(reader.feed("c LOGIN alice p\u{7F}w\r\n"), [.bad(tag: "c", reason: "Invalid character in atom")])
        XCTAssertEqual(reader.feed("d LOGIN alice p\u{1}w\r\n"), [.bad(tag: "d", reason: "Invalid character in atom")])
    }

    func testInvalidCommandNamesAreBadWithTheTag() {
        XCTAssertEqual(reader.feed("a NO0P\r\n"), [.bad(tag: "a", reason: "Invalid command")])
        XCTAssertEqual(reader.feed("a\r\n"), [.bad(tag: "a", reason: "Invalid command")])
        XCTAssertEqual(reader.feed("a  NOOP\r\n"), [.bad(tag: "a", reason: "Invalid command")])
    }

    func testSpacingBetweenArgumentsIsStrict() {
        XCTAssertEqual(reader.feed("a NOOP \r\n"), [.bad(tag: "a", reason: "Missing argument")])
        XCTAssertEqual(reader.feed("a LOGIN  alice pw\r\n"), [.bad(tag: "a", reason: "Empty argument")])
        XCTAssertEqual(reader.feed("a LOGIN \"alice\"pw\r\n"), [.bad(tag: "a", reason: "Expected a space")])
    }

    // MARK: Tags

    func testValidTagsUseAnyAstringCharExceptPlus() {
        XCTAssertEqual(reader.feed("A001 NOOP\r\n"), [command("A001", "NOOP")])
        XCTAssertEqual(reader.feed("a.b-c_1:2 NOOP\r\n"), [command("a.b-c_1:2", "NOOP")])
        XCTAssertEqual(reader.feed("a]1 NOOP\r\n"), [command("a]1", "NOOP")])
    }

    func testInvalidTagsAreBadWithoutATag() {
        let invalid = [
            "a+b NOOP", "+ NOOP", "* NOOP", "\"a\" NOOP", "a\"b NOOP", " NOOP", "", "a(b NOOP", "a)b NOOP",
            "a{b NOOP", "a%b NOOP", "a\\b NOOP", "a\u{1}b NOOP", "tag\u{80} NOOP",
            String(repeating: "t", count: 65) + " NOOP",
        ]
        for line in invalid {
            XCTAssertEqual(
                reader.feed(line + "\r\n"), [.bad(tag: nil, reason: "Invalid tag")], "tag of \(line.debugDescription)")
        }
        XCTAssertEqual(reader.feed("z NOOP\r\n"), [command("z", "NOOP")], "the reader recovers")
    }

    // MARK: Quoted strings

    func testQuotedStringsWithEscapes() {
        XCTAssertEqual(
            reader.feed("a LOGIN \"al ice\" \"pa\\\"ss\\\\word\"\r\n"),
            [command("a", "LOGIN", [string("al ice"), string("pa\"ss\\word")])])
        XCTAssertEqual(reader.feed("b LOGIN \"\" \"{5}\"\r\n"), [command("b", "LOGIN", [string(""), string("{5}")])])
        XCTAssertEqual(
            reader.feed("c LOGIN \"jürgen\" \"(x)\"\r\n"), [command("c", "LOGIN", [string("jürgen"), string("(x)")])])
    }

    func testInvalidEscapesAreBad() {
        for escape in ["\\n", "\\a", "\\ ", "\\'"] {
            XCTAssertEqual(
                reader.feed("a LOGIN \"x\(escape)y\" pw\r\n"),
                [.bad(tag: "a", reason: "Invalid escape in quoted string")], escape)
        }
        XCTAssertEqual(
            reader.feed("b LOGIN \"x\\\r\n"), [.bad(tag: "b", reason: "Invalid escape in quoted string")],
            "a backslash before the line end")
    }

    func testUnterminatedQuotedStringIsBad() {
        XCTAssertEqual(reader.feed("a LOGIN \"alice pw\r\n"), [.bad(tag: "a", reason: "Unterminated quoted string")])
    }

    // MARK: NUL and control bytes

    func testNulBytesAreBad() {
        XCTAssertEqual(reader.feed("a LOGIN al\u{0}ice pw\r\n"), [.bad(tag: "a", reason: "Invalid character in atom")])
        XCTAssertEqual(
            reader.feed("b LOGIN \"al\u{0}ice\" pw\r\n"),
            [.bad(tag: "b", reason: "Invalid character in quoted string")])
        XCTAssertEqual(reader.feed("c\u{0} NOOP\r\n"), [.bad(tag: nil, reason: "Invalid tag")])
        XCTAssertEqual(reader.feed("d NO\u{0}OP\r\n"), [.bad(tag: "d", reason: "Invalid command")])
        XCTAssertEqual(reader.feed("e LOGIN {3+}\r\na\u{0}b pw\r\n"), [.bad(tag: "e", reason: "NUL in literal")])
        XCTAssertEqual(reader.feed("f NOOP\r\n"), [command("f", "NOOP")])
    }

    func testBareCarriageReturnInsideALineIsNotALineEnd() {
        XCTAssertEqual(reader.feed("a NOOP\rb NOOP\r\n"), [.bad(tag: "a", reason: "Invalid command")])
        XCTAssertEqual(
            reader.feed("a LOGIN \"x\ry\" pw\r\n"), [.bad(tag: "a", reason: "Invalid character in quoted string")])
    }

    // MARK: Lists

    func testIDParameterList() {
        XCTAssertEqual(
            reader.feed("a ID (\"name\" \"Thunderbird\" \"version\" NIL)\r\n"),
            [command("a", "ID", [.list([string("name"), string("Thunderbird"), string("version"), .atom("NIL")])])])
        XCTAssertEqual(reader.feed("b ID ()\r\n"), [command("b", "ID", [.list([])])])
        XCTAssertEqual(
            reader.feed("c ID ((\"x\") y)\r\n"), [command("c", "ID", [.list([.list([string("x")]), .atom("y")])])])
    }

    func testListsWithALiteral() {
        XCTAssertEqual(
            reader.feed("a ID (\"name\" {3+}\r\nfoo)\r\n"),
            [command("a", "ID", [.list([string("name"), string("foo")])])])
    }

    func testMalformedLists() {
        XCTAssertEqual(reader.feed("a ID (\"name\"\r\n"), [.bad(tag: "a", reason: "Unterminated list")])
        XCTAssertEqual(reader.feed("a ID (\"a\"\"b\")\r\n"), [.bad(tag: "a", reason: "Expected a space in list")])
        XCTAssertEqual(reader.feed("a ID ( \"a\")\r\n"), [.bad(tag: "a", reason: "Empty argument")])
        XCTAssertEqual(reader.feed("a ID (((((x)))))\r\n"), [.bad(tag: "a", reason: "Lists nested too deep")])
        XCTAssertEqual(
            reader.feed("a ID ((((x))))\r\n"), [command("a", "ID", [.list([.list([.list([.list([.atom("x")])])])])])])
    }

    // MARK: Line endings and buffering

    func testLFOnlyLineEndingsAreAccepted() {
        XCTAssertEqual(
            reader.feed("a NOOP\nb LOGIN u p\n"),
            [command("a", "NOOP"), command("b", "LOGIN", [.atom("u"), .atom("p")])])
        XCTAssertEqual(reader.bufferedCount, 0)
    }

    func testBytesAfterACompleteCommandStayBuffered() {
        XCTAssertEqual(reader.feed("a NOOP\r\nb LOG"), [command("a", "NOOP")])
        XCTAssertEqual(reader.bufferedCount, 5)
        XCTAssertEqual(reader.takeBuffered(), bytes("b LOG"))
        XCTAssertEqual(reader.bufferedCount, 0)
        XCTAssertEqual(reader.feed("c NOOP\r\n"), [command("c", "NOOP")])
    }

    func testOneCommandAtATimeLeavesTheRestRaw() {
        reader.append(bytes("a STARTTLS\r\n\u{16}\u{3}\u{1}b NOOP\r\n"))
        XCTAssertEqual(reader.next(), command("a", "STARTTLS"))
        XCTAssertEqual(reader.takeBuffered(), bytes("\u{16}\u{3}\u{1}b NOOP\r\n"))
        XCTAssertNil(reader.next())
    }

    func testIncompleteLineWaits() {
        XCTAssertEqual(reader.feed("a NO"), [])
        XCTAssertEqual(reader.feed("OP\r"), [])
        XCTAssertEqual(reader.feed("\n"), [command("a", "NOOP")])
    }

    // MARK: Raw lines (SASL responses)

    func testNextLineReturnsRawLines() {
        reader.append(bytes("dGVzdA==\r\n*\n\r\nrest"))
        XCTAssertEqual(reader.nextLine(), .line(bytes("dGVzdA==")))
        XCTAssertEqual(reader.nextLine(), .line(bytes("*")))
        XCTAssertEqual(reader.nextLine(), .line([]))
        XCTAssertNil(reader.nextLine())
        XCTAssertEqual(reader.takeBuffered(), bytes("rest"))
    }

    func testNextLineBoundsTheLine() {
        var small = IMAPCommandReader(maxLine: 16)
        small.append(Array(repeating: UInt8(ascii: "A"), count: 17))
        XCTAssertEqual(small.nextLine(), .tooLong)
        XCTAssertNil(small.nextLine(), "discarding until the line ends")
        small.append(bytes("AAAA\r\nb NOOP\r\n"))
        XCTAssertEqual(small.discardedBytes, 17 + 6)
        XCTAssertEqual(small.drain(), [command("b", "NOOP")], "the overlong line's rest was dropped")
        XCTAssertEqual(small.discardedBytes, 0)
    }
}
