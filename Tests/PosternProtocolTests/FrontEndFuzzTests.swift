import XCTest

@testable import PosternProtocol

/// Random input in random chunkings, for a fixed seed: the POP3 and ManageSieve front ends and their
/// readers must keep their invariants, and answer the same whatever the chunking.
final class FrontEndFuzzTests: XCTestCase {
    private static let seed: UInt64 = 0x5EED_0F_F0_0D
    private static let iterations = 1500

    private static let pop3Fragments: [[UInt8]] = [
        "\r\n", "\n", "\r", " ", "*", "=", "+", ".", "\u{0}", "CAPA\r\n", "STLS\r\n", "QUIT\r\n", "NOOP\r\n",
        "USER alice\r\n", "PASS se cret\r\n", "PASS\r\n", "USER\r\n", "AUTH\r\n", "AUTH PLAIN\r\n",
        "AUTH PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm\r\n", "AHRpbQB0YW5zdGFhZnRhbnN0YWFm\r\n", "AUTH LOGIN\r\n",
        "YWxpY2U=\r\n", "AUTH XOAUTH2 dXNlcj1hAWF1dGg9QmVhcmVyIHgBAQ==\r\n", "AUTH OAUTHBEARER =\r\n",
        "APOP a b\r\n", "STAT\r\n", "RETR 1\r\n", "auth plain *\r\n", "!!!!\r\n",
    ].map { Array($0.utf8) }

    private static let sieveFragments: [[UInt8]] = [
        "\r\n", "\n", "\r", " ", "\"", "\\", "{", "}", "(", ")", "*", "\u{0}", "{5+}\r\n", "{0}\r\n", "{99999}\r\n",
        "CAPABILITY\r\n", "STARTTLS\r\n", "LOGOUT\r\n", "NOOP\r\n", "NOOP \"t\"\r\n", "NOOP {1+}\r\nx\r\n",
        "AUTHENTICATE \"PLAIN\"\r\n", "AUTHENTICATE \"PLAIN\" \"AHRpbQB0YW5zdGFhZnRhbnN0YWFm\"\r\n",
        "AUTHENTICATE \"PLAIN\" {28+}\r\nAHRpbQB0YW5zdGFhZnRhbnN0YWFm\r\n", "\"AHRpbQB0YW5zdGFhZnRhbnN0YWFm\"\r\n",
        "AUTHENTICATE \"LOGIN\"\r\n", "\"YWxpY2U=\"\r\n", "\"*\"\r\n", "AUTHENTICATE \"OAUTHBEARER\" \"\"\r\n",
        "LISTSCRIPTS\r\n", "PUTSCRIPT \"a\" {3+}\r\nabc\r\n", "HAVESPACE \"x\" 10\r\n",
    ].map { Array($0.utf8) }

    func testPOP3RandomInput() {
        run(
            fragments: Self.pop3Fragments, salt: 1, make: { POP3FrontEnd(options: $0) }, check: Self.checkPOP3Reply,
            replies: ("+OK Logged in.", "-ERR [AUTH] Authentication failed."))
    }

    func testSieveRandomInput() {
        run(
            fragments: Self.sieveFragments, salt: 2, make: { SieveFrontEnd(options: $0) }, check: Self.checkSieveReply,
            replies: ("OK \"Logged in.\"", "NO \"Authentication failed.\""))
    }

    func testLineReaderIsChunkingInvariantAndBounded() {
        var generator = SplitMix64(seed: Self.seed ^ 3)
        var failures = Failures()
        for iteration in 0..<Self.iterations {
            failures.iteration = iteration
            let maxLine = [512, 1024][Int(generator.next() % 2)]
            let input = Self.randomInput(Self.pop3Fragments, maxLine: maxLine, using: &generator)
            let whole = Self.lineEvents(LineReader(maxLine: maxLine), [input], maxLine: maxLine, failures: &failures)
            let chunks = Self.randomChunks(of: input, using: &generator)
            let parts = Self.lineEvents(LineReader(maxLine: maxLine), chunks, maxLine: maxLine, failures: &failures)
            failures.check(whole == parts, "line events depend on the chunking")
        }
        XCTAssertEqual(failures.messages, [], "seed \(Self.seed)")
    }

    func testSieveReaderIsChunkingInvariantAndBounded() {
        var generator = SplitMix64(seed: Self.seed ^ 4)
        var failures = Failures()
        for iteration in 0..<Self.iterations {
            failures.iteration = iteration
            let maxLine = [512, 1024][Int(generator.next() % 2)]
            let input = Self.randomInput(Self.sieveFragments, maxLine: maxLine, using: &generator)
            let whole = Self.sieveEvents([input], maxLine: maxLine, failures: &failures)
            let parts = Self.sieveEvents(
                Self.randomChunks(of: input, using: &generator), maxLine: maxLine, failures: &failures)
            failures.check(whole == parts, "sieve reader events depend on the chunking")
        }
        XCTAssertEqual(failures.messages, [], "seed \(Self.seed)")
    }

    // MARK: Driving a front end

    /// What a run produced, in a form that does not depend on the chunking: the text sent and the
    /// actions, up to the first action after which the remaining input is no longer read as commands.
    private struct Transcript: Equatable {
        var sent: [UInt8] = []
        var actions: [String] = []
        var ended = false
    }

    private func run<Machine: FrontEndMachine>(
        fragments: [[UInt8]], salt: UInt64, make: (FrontEndOptions) -> Machine,
        check: ([UInt8], inout Failures) -> Void, replies: (success: String, rejection: String)
    ) {
        var generator = SplitMix64(seed: Self.seed ^ salt)
        var failures = Failures()
        for iteration in 0..<Self.iterations {
            failures.iteration = iteration
            let maxLine = [512, 1024, 4096][Int(generator.next() % 3)]
            var options = FrontEndOptions(
                starttlsOffered: Bool.random(using: &generator), tlsActive: Bool.random(using: &generator),
                tlsRequiredForLogin: Bool.random(using: &generator), maxLine: maxLine,
                maxLoginAttempts: Int.random(in: 1...4, using: &generator),
                mechanisms: SASLMechanism.allCases.filter { _ in Bool.random(using: &generator) })
            if options.mechanisms.isEmpty { options.mechanisms = [.plain] }
            let input = Self.randomInput(fragments, maxLine: maxLine, using: &generator)
            var machine = make(options)
            check(machine.greeting(), &failures)
            let whole = drive(&machine, [input], replies: replies, check: check, failures: &failures)
            var again = make(options)
            _ = again.greeting()
            let chunks = Self.randomChunks(of: input, using: &generator)
            let parts = drive(&again, chunks, replies: replies, check: check, failures: &failures)
            if whole.sent != parts.sent || whole.actions != parts.actions {
                failures.check(false, "replies depend on the chunking:\n\(text(whole.sent))\n---\n\(text(parts.sent))")
            }
            if failures.messages.count >= 10 { break }
        }
        XCTAssertEqual(failures.messages, [], "seed \(Self.seed)")
    }

    /// Feeds the chunks as a session would, answering logins with a fixed sequence of outcomes and finishing
    /// STARTTLS at once; stops comparing at the first STARTTLS, relay or close.
    private func drive<Machine: FrontEndMachine>(
        _ machine: inout Machine, _ chunks: [[UInt8]], replies: (success: String, rejection: String),
        check: ([UInt8], inout Failures) -> Void, failures: inout Failures
    ) -> Transcript {
        var transcript = Transcript()
        var logins = 0
        var frozen = false
        for chunk in chunks {
            var pending = machine.receive(chunk)
            if transcript.ended {
                failures.check(pending.isEmpty, "actions after close or relay: \(pending)")
                continue
            }
            var rounds = 0
            while !pending.isEmpty {
                rounds += 1
                failures.check(rounds < 10_000, "front end loops")
                if rounds >= 10_000 { return transcript }
                let actions = pending
                pending = []
                for (index, action) in actions.enumerated() {
                    let last = index == actions.count - 1
                    switch action {
                    case .send(let data):
                        check(data, &failures)
                        if !frozen { transcript.sent += data }
                    case .close, .relay:
                        failures.check(last, "\(action) must come last")
                        if !frozen { transcript.actions.append(action == .close ? "close" : "relay") }
                        transcript.ended = true
                        frozen = true
                    case .startTLS:
                        failures.check(last, ".startTLS must come last")
                        if !frozen { transcript.actions.append("startTLS") }
                        frozen = true
                        pending = machine.tlsEstablished()
                    case .login(let request):
                        failures.check(last, ".login must come last")
                        failures.check(!request.credentials.routingKey.isEmpty, "empty routing key")
                        if !frozen { transcript.actions.append("login \(request.credentials.user)") }
                        logins += 1
                        pending = machine.loginFinished(Self.outcome(logins, replies))
                    case .yield:
                        failures.check(last, ".yield must come last")
                        pending = machine.resume()
                    }
                }
            }
        }
        if transcript.ended {
            failures.check(machine.receive(bytes("QUIT\r\nLOGOUT\r\n")).isEmpty, "nothing after close or relay")
            failures.check(machine.tlsEstablished().isEmpty, "tlsEstablished after close or relay")
            failures.check(machine.loginFinished(.success(text: "+OK")).isEmpty, "loginFinished after the end")
        }
        return transcript
    }

    private static func outcome(_ number: Int, _ replies: (success: String, rejection: String)) -> LoginOutcome {
        switch number % 4 {
        case 0: return .success(text: replies.success)
        case 1: return .rejected(text: replies.rejection)
        case 2: return .unknownUser
        default: return .unavailable(reason: "Backend unreachable.")
        }
    }

    /// Every POP3 reply ends in CRLF, has no bare CR or LF, and starts as a status or a continuation.
    private static func checkPOP3Reply(_ data: [UInt8], _ failures: inout Failures) {
        checkLines(data, &failures)
        let start = String(decoding: data.prefix(4), as: UTF8.self)
        failures.check(
            start.hasPrefix("+OK") || start.hasPrefix("-ERR") || start.hasPrefix("+ "), "POP3 reply \(text(data))")
    }

    /// Every ManageSieve reply line is a capability, a challenge string or a status response.
    private static func checkSieveReply(_ data: [UInt8], _ failures: inout Failures) {
        checkLines(data, &failures)
        for line in data.split(separator: 10) {
            let first = String(decoding: line.prefix(4), as: UTF8.self)
            failures.check(
                first.hasPrefix("\"") || first.hasPrefix("OK") || first.hasPrefix("NO") || first.hasPrefix("BYE"),
                "sieve reply line \(text(Array(line)))")
        }
    }

    private static func checkLines(_ data: [UInt8], _ failures: inout Failures) {
        failures.check(
            data.count >= 2 && data.suffix(2).elementsEqual([13, 10]), "reply ends with CRLF: \(text(data))")
        for (index, byte) in data.enumerated() {
            if byte == 13 { failures.check(index + 1 < data.count && data[index + 1] == 10, "bare CR") }
            if byte == 10 { failures.check(index > 0 && data[index - 1] == 13, "bare LF") }
        }
    }

    // MARK: Readers

    private static func lineEvents(
        _ reader: LineReader, _ chunks: [[UInt8]], maxLine: Int, failures: inout Failures
    ) -> [LineReader.Event] {
        var reader = reader
        var events: [LineReader.Event] = []
        for chunk in chunks {
            reader.append(chunk)
            while let event = reader.next() {
                if case .line(let line) = event { failures.check(line.count <= maxLine, "line over the bound") }
                events.append(event)
            }
            failures.check(reader.bufferedCount <= maxLine, "line reader holds \(reader.bufferedCount)")
        }
        return events
    }

    private static func sieveEvents(_ chunks: [[UInt8]], maxLine: Int, failures: inout Failures)
        -> [SieveCommandReader.Event]
    {
        var reader = SieveCommandReader(maxLine: maxLine)
        var events: [SieveCommandReader.Event] = []
        for chunk in chunks {
            reader.append(chunk)
            while let event = reader.next() { events.append(event) }
            failures.check(reader.bufferedCount <= reader.maxCommand, "sieve reader holds \(reader.bufferedCount)")
        }
        return events
    }

    // MARK: Generators

    private static func randomInput(_ pieces: [[UInt8]], maxLine: Int, using generator: inout SplitMix64) -> [UInt8] {
        let unit = Double(generator.next() >> 11) / Double(1 << 53)
        let length = Int(unit * unit * unit * 16 * 1024)
        var data: [UInt8] = []
        while data.count < length {
            switch generator.next() % 9 {
            case 0, 1:
                let word = generator.next()
                for shift in stride(from: 0, to: 8 * Int(1 + word % 8), by: 8) {
                    data.append(UInt8(truncatingIfNeeded: word >> UInt64(shift)))
                }
            case 2:
                let byte = [UInt8(ascii: "x"), UInt8(ascii: "A"), 32][Int(generator.next() % 3)]
                data += repeatElement(byte, count: Int.random(in: 100...(3 * maxLine), using: &generator))
            case 3:
                data += Array("{\(Int.random(in: 0...(maxLine + 64), using: &generator))+}\r\n".utf8)
            default:
                data += pieces[Int(generator.next() % UInt64(pieces.count))]
            }
        }
        return data
    }

    private static func randomChunks(of data: [UInt8], using generator: inout SplitMix64) -> [[UInt8]] {
        switch generator.next() % 6 {
        case 0: return data.isEmpty ? [] : [data]
        case 1: return chunked(data, sizes: (0..<16).map { _ in Int.random(in: 1...8, using: &generator) })
        case 2, 3: return chunked(data, sizes: (0..<16).map { _ in Int.random(in: 1...600, using: &generator) })
        default: return chunked(data, sizes: (0..<16).map { _ in Int.random(in: 1...5000, using: &generator) })
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
