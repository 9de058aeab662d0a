import XCTest

@testable import PosternProtocol

/// The readers consume by moving an offset and drop the consumed bytes when more arrive: many commands in
/// one read come out whole and in order, and a command split across reads survives the compaction.
final class ReaderCompactionTests: XCTestCase {
    private let count = 10_000

    func testIMAPReaderGivesTenThousandCommandsFromOneAppend() {
        var reader = IMAPCommandReader(maxLine: 1024)
        reader.append(bytes((0..<count).map { "t\($0) NOOP\r\n" }.joined()))
        let events = reader.drain()
        XCTAssertEqual(events.count, count)
        XCTAssertEqual(events, (0..<count).map { command("t\($0)", "NOOP") })
        XCTAssertEqual(reader.bufferedCount, 0)
    }

    func testLineReaderGivesTenThousandLinesFromOneAppend() {
        var reader = LineReader(maxLine: 1024)
        reader.append(bytes((0..<count).map { "USER u\($0)\r\n" }.joined()))
        var events: [LineReader.Event] = []
        while let event = reader.next() { events.append(event) }
        XCTAssertEqual(events, (0..<count).map { .line(bytes("USER u\($0)")) })
        XCTAssertEqual(reader.bufferedCount, 0)
    }

    func testSieveReaderGivesTenThousandCommandsFromOneAppend() {
        var reader = SieveCommandReader(maxLine: 1024)
        reader.append(bytes((0..<count).map { "NOOP \"t\($0)\"\r\n" }.joined()))
        var names: [[IMAPArgument]] = []
        while let event = reader.next() {
            guard case .line(let data, let segments) = event,
                let parsed = try? SieveCommandReader.parseCommand(bytes: data, segments: segments).get()
            else { return XCTFail("\(event)") }
            names.append(parsed.arguments)
        }
        XCTAssertEqual(names, (0..<count).map { [string("t\($0)")] })
    }

    func testACommandSplitAfterConsumedOnesSurvivesTheCompaction() {
        var imap = IMAPCommandReader(maxLine: 1024)
        XCTAssertEqual(
            imap.feed("a NOOP\r\nb NOOP\r\nc LOGIN {5+}\r\nal"), [command("a", "NOOP"), command("b", "NOOP")])
        XCTAssertEqual(imap.feed("ice pw\r\n"), [command("c", "LOGIN", [string("alice"), .atom("pw")])])
        var lines = LineReader(maxLine: 1024)
        lines.append(bytes("USER a\r\nPA"))
        XCTAssertEqual(lines.next(), .line(bytes("USER a")))
        XCTAssertNil(lines.next())
        lines.append(bytes("SS b\r\n"))
        XCTAssertEqual(lines.next(), .line(bytes("PASS b")))
        var sieve = SieveCommandReader(maxLine: 1024)
        sieve.append(bytes("NOOP\r\nPUTSCRIPT \"s\" {3+}\r\nab"))
        XCTAssertEqual(sieve.next(), .line(bytes: bytes("NOOP\r"), segments: [0..<4]))
        XCTAssertNil(sieve.next())
        sieve.append(bytes("c\r\n"))
        guard case .line(let data, let segments) = sieve.next() else { return XCTFail("no line") }
        XCTAssertEqual(
            try SieveCommandReader.parseCommand(bytes: data, segments: segments).get(),
            SieveCommand(name: "PUTSCRIPT", arguments: [string("s"), string("abc")]))
    }

    func testReadBufferIndicesStartAtTheFirstUnconsumedByte() {
        var buffer = ReadBuffer()
        buffer.append(bytes("ab\ncd\nef"))
        XCTAssertEqual(buffer.firstLF(from: 0), 2)
        buffer.consume(3)
        XCTAssertEqual(buffer.count, 5)
        XCTAssertEqual(buffer[0], UInt8(ascii: "c"))
        XCTAssertEqual(buffer.firstLF(from: 0), 2)
        XCTAssertEqual(buffer.line(endingAt: 2), bytes("cd"))
        buffer.append(bytes("g\r\n"))
        XCTAssertEqual(buffer.bytes(0..<buffer.count), bytes("cd\nefg\r\n"), "appending dropped the consumed front")
        buffer.consume(3)
        XCTAssertEqual(buffer.line(endingAt: 4), bytes("efg"))
        XCTAssertEqual(buffer.takeAll(), bytes("efg\r\n"))
        XCTAssertEqual(buffer.count, 0)
    }
}
