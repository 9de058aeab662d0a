import XCTest

@testable import PosternProtocol

/// Random input in random chunkings, for a fixed seed: the reader and the front end must keep their invariants.
final class FuzzTests: XCTestCase {
    private static let seed: UInt64 = 0x5EED_0F_1A_2B_3C
    private static let iterations = 2000

    /// Pieces that steer random input towards interesting states.
    private static let fragments: [[UInt8]] =
        nonSyncFragments
        + [
            "{0}\r\n", "{5}\r\n", "{9999999}\r\n", "a2 LOGIN {5}\r\nalice {6+}\r\nsecret\r\n", "b4 ID (\"k\" {4}\r\n",
        ].map { Array($0.utf8) }

    /// The pieces without a synchronizing literal.
    private static let nonSyncFragments: [[UInt8]] = [
        "\r\n", "\n", "\r", "{", "}", "\"", "\\", " ", "(", ")", "+", "*", "=", "{5+}\r\n", "{12345678901}\r\n",
        "a1 LOGIN alice secret\r\n", "a2 LOGIN {5+}\r\nalice {6+}\r\nsecret\r\n",
        "a3 AUTHENTICATE PLAIN\r\n", "AHRpbQB0YW5zdGFhZnRhbnN0YWFm\r\n", "a4 AUTHENTICATE PLAIN =\r\n",
        "a5 AUTHENTICATE PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm\r\n", "a6 STARTTLS\r\n", "a7 ID (\"name\" \"fuzz\")\r\n",
        "a8 ID NIL\r\n", "a9 NOOP\r\n", "b1 CAPABILITY\r\n", "*\r\n", "b2 SELECT INBOX\r\n",
        "b3 LOGIN \"a\\\"b\" {3+}\r\nxyz\r\n",
        "b4 ID (\"k\" {4+}\r\n", "b5 ENABLE X\r\n", "\u{0}", "b6 LOGIN \"x\\qy\" z\r\n",
    ].map { Array($0.utf8) }

    func testRandomInputKeepsInvariants() {
        var generator = SplitMix64(seed: FuzzTests.seed)
        var failures = Failures()
        var checkedInvariance = 0
        for iteration in 0..<FuzzTests.iterations {
            failures.iteration = iteration
            let maxLine = [512, 1024, 4096][Int.random(in: 0...2, using: &generator)]
            // Half the inputs carry no synchronizing literal: the reader's events must not depend on chunking.
            let syncLiterals = Bool.random(using: &generator)
            let input = FuzzTests.randomInput(maxLine: maxLine, syncLiterals: syncLiterals, using: &generator)
            let chunks = FuzzTests.randomChunks(of: input, using: &generator)
            let events = checkReader(chunks: chunks, maxLine: maxLine, failures: &failures)
            if !FuzzTests.mayHoldSynchronizingLiteral(input) {
                checkedInvariance += 1
                var whole = IMAPCommandReader(maxLine: maxLine)
                failures.check(whole.feed(input) == events, "reader events depend on the chunking")
            }
            checkFrontEnd(chunks: chunks, maxLine: maxLine, using: &generator, failures: &failures)
            if failures.messages.count >= 20 { break }
        }
        XCTAssertEqual(failures.messages, [], "seed \(FuzzTests.seed)")
        XCTAssertGreaterThan(checkedInvariance, FuzzTests.iterations / 3, "inputs checked for chunking invariance")
    }

    // MARK: Reader

    /// Feeds the chunks to a reader, checking its invariants; returns all its events.
    private func checkReader(chunks: [[UInt8]], maxLine: Int, failures: inout Failures) -> [IMAPCommandReader.Event] {
        var reader = IMAPCommandReader(maxLine: maxLine)
        var all: [IMAPCommandReader.Event] = []
        for chunk in chunks {
            reader.append(chunk)
            failures.check(reader.bufferedCount <= reader.maxCommand + chunk.count, "reader buffer after append")
            var events: [IMAPCommandReader.Event] = []
            while let event = reader.next() {
                events.append(event)
                failures.check(events.count < 10_000, "reader loops")
                if events.count >= 10_000 { return all }
            }
            all += events
            failures.check(
                reader.bufferedCount <= reader.maxCommand, "reader holds \(reader.bufferedCount) > \(reader.maxCommand)"
            )
            for (index, event) in events.enumerated() {
                switch event {
                case .continuationNeeded:
                    failures.check(index == events.count - 1, "continuation must wait for more input")
                case .command(let command):
                    failures.check(IMAPCommandReader.validTag(Array(command.tag.utf8)) != nil, "command tag")
                    failures.check(
                        !command.name.isEmpty && command.name.utf8.allSatisfy { ($0 >= 65 && $0 <= 90) || $0 == 45 },
                        "command name \(command.name)")
                case .bad(let tag?, _), .tooLong(let tag?), .unrecoverable(let tag?, _):
                    failures.check(IMAPCommandReader.validTag(Array(tag.utf8)) != nil, "event tag \(tag)")
                case .bad, .tooLong, .unrecoverable:
                    break
                }
            }
        }
        return all
    }

    // MARK: Front end

    private func checkFrontEnd(
        chunks: [[UInt8]], maxLine: Int, using generator: inout SplitMix64, failures: inout Failures
    ) {
        let tlsActive = Bool.random(using: &generator)
        var frontEnd = IMAPFrontEnd(
            options: FrontEndOptions(
                starttlsOffered: Bool.random(using: &generator), tlsActive: tlsActive,
                tlsRequiredForLogin: Bool.random(using: &generator), maxLine: maxLine,
                maxLoginAttempts: Int.random(in: 1...5, using: &generator)))
        var ended = false
        checkReplies(frontEnd.greeting(), failures: &failures)
        for chunk in chunks {
            var pending = frontEnd.receive(chunk)
            if ended {
                failures.check(pending.isEmpty, "actions after close or relay: \(pending)")
                continue
            }
            // Follow up what the machine asked for, as a session would, until it waits for the client.
            while !pending.isEmpty {
                let actions = pending
                pending = []
                for (index, action) in actions.enumerated() {
                    failures.check(!ended, "action after close or relay: \(action)")
                    switch action {
                    case .send(let data):
                        checkReplies(data, failures: &failures)
                    case .close:
                        failures.check(index == actions.count - 1, ".close must come last")
                        ended = true
                    case .relay:
                        failures.check(index == actions.count - 1, ".relay must come last")
                        ended = true
                    case .startTLS:
                        failures.check(index == actions.count - 1, ".startTLS must come last")
                        pending = frontEnd.tlsEstablished()
                    case .login:
                        failures.check(index == actions.count - 1, ".login must come last")
                        pending = frontEnd.loginFinished(FuzzTests.randomOutcome(using: &generator))
                    case .yield:
                        failures.check(index == actions.count - 1, ".yield must come last")
                        pending = frontEnd.resume()
                    }
                }
            }
        }
        if ended {
            failures.check(frontEnd.receive(bytes("z NOOP\r\n")).isEmpty, "nothing after close or relay")
            failures.check(frontEnd.tlsEstablished().isEmpty, "tlsEstablished after close or relay")
            failures.check(frontEnd.loginFinished(.success(text: "OK")).isEmpty, "loginFinished after close or relay")
        }
    }

    /// Every reply line ends with CRLF and starts with `*`, `+` or a valid tag.
    private func checkReplies(_ data: [UInt8], failures: inout Failures) {
        failures.check(
            data.count >= 2 && data.suffix(2).elementsEqual([13, 10]), "reply ends with CRLF: \(text(data))")
        var start = 0
        while start < data.count {
            guard let lf = data[start...].firstIndex(of: 10) else { break }
            let line = Array(data[start..<lf])
            failures.check(line.last == 13 && !line.dropLast().contains(13), "bare CR or LF in \(text(data))")
            let first = Array(line.prefix { $0 != 32 })
            let valid =
                first == [UInt8(ascii: "*")] || first == [UInt8(ascii: "+")] || IMAPCommandReader.validTag(first) != nil
            failures.check(valid && line.count > first.count + 1, "reply line \(text(line))")
            start = lf + 1
        }
    }

    // MARK: Generators

    /// Whether some LF in `data` ends a `{n}` header (a conservative test: literal data is not skipped).
    private static func mayHoldSynchronizingLiteral(_ data: [UInt8]) -> Bool {
        var from = 0
        while let lf = data[from...].firstIndex(of: 10) {
            let end = lf > 0 && data[lf - 1] == 13 ? lf - 1 : lf
            if let header = IMAPCommandReader.literalHeader(data[max(0, end - 13)..<end]), !header.nonSync {
                return true
            }
            from = lf + 1
        }
        return false
    }

    private static func randomInput(maxLine: Int, syncLiterals: Bool, using generator: inout SplitMix64) -> [UInt8] {
        let pieces = syncLiterals ? fragments : nonSyncFragments
        // Mostly short inputs, some up to 20 KiB.
        let unit = Double(generator.next() >> 11) / Double(1 << 53)
        let length = Int(unit * unit * unit * 20 * 1024)
        var data: [UInt8] = []
        data.reserveCapacity(length + 64)
        while data.count < length {
            switch generator.next() % 11 {
            case 0, 1, 2:
                let word = generator.next()
                for shift in stride(from: 0, to: 8 * Int(1 + word % 8), by: 8) {
                    data.append(UInt8(truncatingIfNeeded: word >> UInt64(shift)))
                }
            case 3:
                let byte = [UInt8(ascii: "x"), UInt8(ascii: "A"), 32][Int(generator.next() % 3)]
                data += repeatElement(byte, count: Int.random(in: 100...3000, using: &generator))
            case 4:
                let size = Int.random(in: 0...(maxLine + maxLine / 32), using: &generator)
                let sync = syncLiterals && Bool.random(using: &generator)
                data += Array("{\(size)\(sync ? "" : "+")}\r\n".utf8)
            case 6:
                data += multiLiteralCommand(maxLine: maxLine, syncLiterals: syncLiterals, using: &generator)
            case 5:
                data += Array("t\(generator.next() % 100) ".utf8)
            default:
                data += pieces[Int(generator.next() % UInt64(pieces.count))]
            }
        }
        return data
    }

    /// A command with several literals, near the line, literal and command bounds.
    private static func multiLiteralCommand(maxLine: Int, syncLiterals: Bool, using generator: inout SplitMix64)
        -> [UInt8]
    {
        var data = Array("m\(generator.next() % 10) \(Bool.random(using: &generator) ? "LOGIN" : "ID (")".utf8)
        for _ in 0..<Int.random(in: 1...5, using: &generator) {
            let size = Int.random(in: maxLine / 2...maxLine, using: &generator)
            let sync = syncLiterals && generator.next() % 4 == 0
            data += Array(" {\(size)\(sync ? "" : "+")}\r\n".utf8)
            data += printable(count: size, using: &generator)
        }
        let tail = Int.random(in: 0...(2 * maxLine), using: &generator)
        data += repeatElement(UInt8(ascii: "y"), count: tail)
        return data + [13, 10]
    }

    /// `count` random bytes from `!` to `|`, eight per generator step.
    private static func printable(count: Int, using generator: inout SplitMix64) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var word: UInt64 = 0
        for index in 0..<count {
            if index % 8 == 0 { word = generator.next() }
            out[index] = 33 + UInt8(truncatingIfNeeded: word >> (8 * UInt64(index % 8))) % 92
        }
        return out
    }

    private static func randomChunks(of data: [UInt8], using generator: inout SplitMix64) -> [[UInt8]] {
        // Tiny chunks are the slowest to feed, so they are the rarest.
        switch generator.next() % 8 {
        case 0, 1: return data.isEmpty ? [] : [data]
        case 2: return chunked(data, sizes: (0..<16).map { _ in Int.random(in: 1...8, using: &generator) })
        case 3, 4: return chunked(data, sizes: (0..<16).map { _ in Int.random(in: 1...600, using: &generator) })
        default: return chunked(data, sizes: (0..<16).map { _ in Int.random(in: 1...6000, using: &generator) })
        }
    }

    private static func randomOutcome(using generator: inout SplitMix64) -> LoginOutcome {
        switch generator.next() % 5 {
        case 0: return .success(text: "OK [CAPABILITY IMAP4rev1 IDLE] Logged in")
        case 1: return .unavailable(reason: "Backend unreachable.")
        case 2: return .unknownUser
        default: return .rejected(text: "NO [AUTHENTICATIONFAILED] Invalid credentials")
        }
    }
}

/// Collects the first invariant violations of a randomised run, with the iteration they happened in.
private struct Failures {
    var iteration = 0
    var messages: [String] = []

    mutating func check(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition && messages.count < 20 { messages.append("iteration \(iteration): \(message())") }
    }
}
