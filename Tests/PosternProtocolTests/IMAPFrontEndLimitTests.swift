import XCTest

@testable import PosternProtocol

/// How the front end bounds misbehaving clients: invalid commands, overlong lines and literals.
final class IMAPFrontEndLimitTests: XCTestCase {
    private let unknown = "BAD Unknown command or not valid before login.\r\n"

    func testTenBadCommandsSayByeAndClose() {
        var frontEnd = makeFrontEnd()
        for index in 1...9 {
            XCTAssertEqual(frontEnd.receive("x\(index) FOO\r\n"), [send("x\(index) \(unknown)")])
        }
        XCTAssertEqual(
            frontEnd.receive("x10 FOO\r\n"), [send("x10 \(unknown)* BYE Too many invalid commands.\r\n"), .close])
        XCTAssertEqual(frontEnd.receive("x11 NOOP\r\n"), [])
    }

    func testTenBadCommandsInOneChunkStopAtTheTenth() {
        var frontEnd = makeFrontEnd()
        let wire = (1...12).map { "x\($0) FOO\r\n" }.joined()
        let expected = [
            send((1...9).map { "x\($0) \(unknown)" }.joined() + "x10 \(unknown)* BYE Too many invalid commands.\r\n"),
            .close,
        ]
        XCTAssertEqual(frontEnd.receive(wire), expected, "x11 and x12 are never answered; one send")
    }

    func testGoodCommandsDoNotResetTheBadCount() {
        var frontEnd = makeFrontEnd()
        for index in 1...9 {
            XCTAssertEqual(
                frontEnd.receive("g\(index) NOOP\r\nb\(index) FOO\r\n"),
                [send("g\(index) OK NOOP completed.\r\nb\(index) \(unknown)")])
        }
        XCTAssertEqual(
            frontEnd.receive("g10 NOOP\r\nb10 FOO\r\n"),
            [send("g10 OK NOOP completed.\r\nb10 \(unknown)* BYE Too many invalid commands.\r\n"), .close])
        XCTAssertEqual(frontEnd.receive("z NOOP\r\n"), [])
    }

    func testHundredKiBLineIsBadThenByeAndClose() {
        var frontEnd = makeFrontEnd(frontEndOptions(maxLine: 8192))
        let line = bytes("a LOGIN alice " + String(repeating: "x", count: 100 * 1024) + "\r\nb NOOP\r\n")
        XCTAssertEqual(
            frontEnd.receive(line), [send("a BAD Command line too long.\r\n* BYE Command line too long.\r\n"), .close])
        XCTAssertEqual(frontEnd.receive("c NOOP\r\n"), [])
    }

    func testHundredKiBLineInChunksIsBadThenByeAndClose() {
        for size in [1000, 4096, 65536] {
            var frontEnd = makeFrontEnd(frontEndOptions(maxLine: 8192))
            let line = bytes("a LOGIN alice " + String(repeating: "x", count: 100 * 1024) + "\r\nb NOOP\r\n")
            let actions = coalesced(frontEnd.receive(line, chunkSizes: [size]))
            XCTAssertEqual(
                actions, [send("a BAD Command line too long.\r\n* BYE Command line too long.\r\n"), .close],
                "chunks of \(size)")
        }
    }

    func testTenKiBLineIsBadAndTheSessionContinues() {
        for size in [1, 1000, 20000] {
            var frontEnd = makeFrontEnd(frontEndOptions(maxLine: 8192))
            let line = bytes("a LOGIN alice " + String(repeating: "x", count: 10 * 1024) + "\r\nb NOOP\r\n")
            XCTAssertEqual(
                coalesced(frontEnd.receive(line, chunkSizes: [size])),
                [send("a BAD Command line too long.\r\nb OK NOOP completed.\r\n")], "chunks of \(size)")
            XCTAssertEqual(
                frontEnd.receive("c LOGIN alice secret\r\n"), [loginAction("alice", "secret", mechanism: .login)])
        }
    }

    func testRepeatedTenKiBLinesDoNotAddUp() {
        var frontEnd = makeFrontEnd(frontEndOptions(maxLine: 8192))
        let line = "a " + String(repeating: "x", count: 10 * 1024) + "\r\n"
        for _ in 1...3 {
            XCTAssertEqual(
                frontEnd.receive(bytes(line), chunkSizes: [3000]), [send("a BAD Command line too long.\r\n")])
        }
        XCTAssertEqual(frontEnd.receive("b NOOP\r\n"), [send("b OK NOOP completed.\r\n")])
    }

    func testOverlongSynchronizingLiteralIsBadAndRecoverable() {
        var frontEnd = makeFrontEnd(frontEndOptions(maxLine: 1024))
        XCTAssertEqual(frontEnd.receive("a LOGIN {1025}\r\n"), [send("a BAD Command line too long.\r\n")])
        XCTAssertEqual(frontEnd.receive("b NOOP\r\n"), [send("b OK NOOP completed.\r\n")])
    }

    func testOverlongNonSynchronizingLiteralClosesTheConnection() {
        var frontEnd = makeFrontEnd(frontEndOptions(maxLine: 1024))
        let data = String(repeating: "c NOOP\r\n", count: 200)
        XCTAssertEqual(
            frontEnd.receive("a LOGIN {1600+}\r\n" + data),
            [send("a BAD Literal too large.\r\n* BYE Literal too large.\r\n"), .close])
        XCTAssertEqual(frontEnd.receive("d NOOP\r\n"), [])
    }

    func testLiteralForAnotherCommandIsRefusedWithoutContinuation() {
        var frontEnd = makeFrontEnd()
        XCTAssertEqual(
            frontEnd.receive("a SELECT {5}\r\n"), [send("a BAD Literal not allowed for this command.\r\n")])
        XCTAssertEqual(frontEnd.receive("b NOOP\r\n"), [send("b OK NOOP completed.\r\n")])
    }

    func testOverlongLineAfterALiteralDoesNotRunTheLiteralAsACommand() {
        var frontEnd = makeFrontEnd(frontEndOptions(maxLine: 1024))
        let wire = "a LOGIN {10+}\r\nb LOGOUT\r\n" + String(repeating: "x", count: 2000) + "\r\nc NOOP\r\n"
        XCTAssertEqual(
            frontEnd.receive(wire), [send("a BAD Command line too long.\r\nc OK NOOP completed.\r\n")])
    }
}
