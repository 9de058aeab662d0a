// The front-end machine of each protocol (IMAP, POP3, ManageSieve) driven as a session drives it, by hostile
// client bytes, TLS handshakes and login outcomes at points the fuzzer picks. Asserts:
// - no send to the client holds a password (or a token's field) that a login carried, apart from echoed tags;
// - the bytes sent stay within 64 × the bytes received (client bytes and login outcome texts) + 4 KiB;
// - STARTTLS leaves nothing behind: the bytes after it are dropped, the handshake's end sends only what the
//   protocol sends then (ManageSieve: the capabilities), and from there on the machine acts exactly as a
//   new one on a TLS connection fed the same input (with budgets too large to be reached), IMAP ID included;
// - a login is asked for only when a command ended (the byte before the reader's position is an LF), and a
//   relay forwards exactly the bytes received after that command;
// - close, relay, STARTTLS, login and yield come last in their call; nothing happens after a close or relay;
// - the same transcript, up to the first STARTTLS, comes out when the reads between two events are merged
//   into one (for IMAP only without synchronizing literals, whose headers are checked only while their data
//   is missing).
//
// Input: three control bytes (dialect in the low two bits, options), a count byte and that many event bytes (below 0xE0: a
// read of that many bytes + 1; 0xE0-0xEF: the TLS handshake finished; 0xF0-0xFF: the pending login ends), then
// the client's bytes; what the events leave is one last read.
import FuzzSupport

@testable import PosternProtocol

private enum Step {
    case read([UInt8])
    case tls
    case outcome(UInt8)
}

/// What the three front ends offer the driver.
private protocol FuzzedFrontEnd: FrontEndMachine {
    init(fuzzOptions: FrontEndOptions)
    var bufferedCount: Int { get }
    var afterTLS: [UInt8] { get }
    /// What the login would forward about the client (IMAP ID).
    var forwarded: [String] { get }
    static var success: String { get }
    static var rejection: String { get }
    /// The output without what the client may legitimately have put there (IMAP tags, ManageSieve NOOP tags).
    static func withoutEchoes(_ output: [UInt8]) -> [UInt8]
}

extension IMAPFrontEnd: FuzzedFrontEnd {
    init(fuzzOptions: FrontEndOptions) { self.init(options: fuzzOptions) }
    var bufferedCount: Int { engine.dialect.reader.bufferedCount }
    var afterTLS: [UInt8] { engine.dialect.afterTLS(options: engine.options) }
    var forwarded: [String] { clientID.map { "\($0.0)=\($0.1 ?? "NIL")" } }
    static let success = "OK [CAPABILITY IMAP4rev1 IDLE] Logged in"
    static let rejection = "NO [AUTHENTICATIONFAILED] Authentication failed."
    static func withoutEchoes(_ output: [UInt8]) -> [UInt8] {
        output.split(separator: 10).flatMap { $0.drop { $0 != 32 } + [10] }
    }
}

extension POP3FrontEnd: FuzzedFrontEnd {
    init(fuzzOptions: FrontEndOptions) { self.init(options: fuzzOptions) }
    var bufferedCount: Int { engine.dialect.reader.bufferedCount }
    var afterTLS: [UInt8] { engine.dialect.afterTLS(options: engine.options) }
    var forwarded: [String] { [] }
    static let success = "+OK Logged in."
    static let rejection = "-ERR [AUTH] Authentication failed."
    static func withoutEchoes(_ output: [UInt8]) -> [UInt8] { output }
}

extension SieveFrontEnd: FuzzedFrontEnd {
    init(fuzzOptions: FrontEndOptions) { self.init(options: fuzzOptions) }
    var bufferedCount: Int { engine.dialect.reader.bufferedCount }
    var afterTLS: [UInt8] { engine.dialect.afterTLS(options: engine.options) }
    var forwarded: [String] { [] }
    static let success = "OK \"Logged in.\""
    static let rejection = "NO \"Authentication failed.\""
    static func withoutEchoes(_ output: [UInt8]) -> [UInt8] {
        let tagged = Array("OK (TAG ".utf8)
        return output.split(separator: 10).filter { !$0.starts(with: tagged) }.flatMap { $0 + [10] }
    }
}

private struct Transcript: Equatable {
    var sent: [UInt8] = []
    var actions: [String] = []
}

/// Control bytes taken apart.
private struct Setup {
    var options: FrontEndOptions
    var dialect: Int
    var autoTLS: Bool
    var autoOutcome: Bool
    /// Budgets too large to be reached: the machine after STARTTLS is compared with a new one.
    var compareAfterTLS: Bool

    init(_ input: inout FuzzInput) {
        let first = input.byte()
        let second = input.byte()
        let third = input.byte()
        dialect = Int(first & 3) % 3
        let mechanisms = SASLMechanism.allCases.enumerated().filter { second & (1 << $0.offset) != 0 }.map(\.element)
        options = FrontEndOptions(
            starttlsOffered: first & 4 == 0, tlsActive: first & 8 != 0, tlsRequiredForLogin: first & 16 != 0,
            maxLine: [16, 64, 256, 1024][Int(first >> 6)], maxLoginAttempts: Int(second >> 6) + 1,
            mechanisms: mechanisms.isEmpty ? [.plain] : mechanisms)
        compareAfterTLS = first & 32 == 0
        if compareAfterTLS {
            options.maxLoginAttempts = 1 << 20
            options.maxBadCommands = 1 << 20
            options.maxPreauthCommands = 1 << 20
        } else {
            options.maxBadCommands = Int(third >> 4) + 1
            options.maxPreauthCommands = Int(third >> 4) * 4 + 1
        }
        options.maxCommandsPerCall = third & 4 == 0 ? 32 : 1
        autoTLS = third & 1 == 0
        autoOutcome = third & 2 == 0
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrontEnd(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let setup = Setup(&input)
    let events = (0..<Int(input.byte() % 32)).map { _ in input.byte() }
    var stream = input.remainder()[...]
    let allBytes = Array(stream)
    var steps: [Step] = []
    for event in events {
        switch event {
        case 0xE0...0xEF: steps.append(.tls)
        case 0xF0...0xFF: steps.append(.outcome(event & 3))
        default:
            let read = stream.prefix(Int(event) + 1)
            stream = stream.dropFirst(read.count)
            if !read.isEmpty { steps.append(.read(Array(read))) }
        }
    }
    if !stream.isEmpty { steps.append(.read(Array(stream))) }
    var merged: [Step] = []
    for step in steps {
        if case .read(let bytes) = step, case .read(let before)? = merged.last {
            merged[merged.count - 1] = .read(before + bytes)
        } else {
            merged.append(step)
        }
    }
    switch setup.dialect {
    case 0: check(IMAPFrontEnd.self, setup, steps, merged, invariant: !holdsSynchronizingLiteral(allBytes))
    case 1: check(POP3FrontEnd.self, setup, steps, merged, invariant: true)
    default: check(SieveFrontEnd.self, setup, steps, merged, invariant: true)
    }
    return 0
}

private func check<Machine: FuzzedFrontEnd>(
    _ type: Machine.Type, _ setup: Setup, _ steps: [Step], _ merged: [Step], invariant: Bool
) {
    var first = Driver<Machine>(setup: setup, compare: setup.compareAfterTLS)
    for step in steps { first.run(step) }
    first.finish()
    var second = Driver<Machine>(setup: setup, compare: false)
    for step in merged { second.run(step) }
    guard invariant else { return }
    fuzzCheck(
        first.transcript == second.transcript,
        "merging reads changed the transcript:\n\(text(first.transcript))\n---\n\(text(second.transcript))")
}

private func text(_ transcript: Transcript) -> String {
    String(decoding: transcript.sent, as: UTF8.self) + "\(transcript.actions)"
}

/// Drives one machine as a session would, checking each call; with `compare`, also a new machine from the
/// end of a STARTTLS on.
private struct Driver<Machine: FuzzedFrontEnd> {
    let setup: Setup
    let compare: Bool
    var machine: Machine
    /// The new machine on a TLS connection, fed what `machine` is fed since its handshake ended.
    var twin: Machine?
    var transcript = Transcript()
    /// Everything sent to the client.
    var output: [UInt8] = []
    /// Client bytes the machine took (not those sent while it waited for a handshake or after the end).
    var accepted: [UInt8] = []
    var bytesIn = 0
    var bytesOut = 0
    var awaitingTLS = false
    var ended = false
    var loggingIn = false
    /// Where the command that asked for the last login ended in `accepted`.
    var loginEnd = 0
    var logins = 0
    var secrets: [[UInt8]] = []

    init(setup: Setup, compare: Bool) {
        self.setup = setup
        self.compare = compare
        machine = Machine(fuzzOptions: setup.options)
        let greeting = machine.greeting()
        transcript.sent += greeting
        output += greeting
        bytesOut += greeting.count
    }

    mutating func run(_ step: Step) {
        switch step {
        case .read(let bytes):
            guard !ended, !awaitingTLS else {
                fuzzCheck(call { $0.receive(bytes) }.isEmpty, "bytes interpreted after close, relay or STARTTLS")
                return
            }
            accepted += bytes
            bytesIn += bytes.count
            handle(call { $0.receive(bytes) })
        case .tls:
            handshakeFinished()
        case .outcome(let kind):
            finishLogin(kind)
        }
    }

    /// The end checks: no secret reached the client, the output stayed bounded.
    func finish() {
        let visible = Machine.withoutEchoes(output)
        for secret in secrets {
            fuzzCheck(
                !contains(visible, secret),
                "a credential went to the client: \(String(decoding: secret, as: UTF8.self))")
        }
        fuzzCheck(bytesOut <= 64 * bytesIn + 4096, "\(bytesOut) bytes sent for \(bytesIn) received")
    }

    /// Calls the machine, and the twin with the same arguments: they must answer alike.
    private mutating func call(_ body: (inout Machine) -> [FrontEndAction]) -> [FrontEndAction] {
        let actions = body(&machine)
        if var other = twin {
            let answer = body(&other)
            twin = other
            fuzzCheck(answer == actions, "after STARTTLS: \(actions)\nbut a new machine: \(answer)")
            fuzzCheck(other.forwarded == machine.forwarded, "ID fields from before STARTTLS: \(machine.forwarded)")
        }
        return actions
    }

    private mutating func handshakeFinished() {
        guard awaitingTLS else {
            fuzzCheck(call { $0.tlsEstablished() }.isEmpty, "a handshake end answered without STARTTLS")
            return
        }
        awaitingTLS = false
        let actions = machine.tlsEstablished()
        var options = setup.options
        options.tlsActive = true
        var fresh = Machine(fuzzOptions: options)
        _ = fresh.greeting()
        let expected = fresh.afterTLS
        fuzzCheck(
            actions == (expected.isEmpty ? [] : [.send(expected)]), "the handshake's end gave \(actions)")
        record(actions)
        fuzzCheck(fresh.forwarded == machine.forwarded, "ID fields from before STARTTLS: \(machine.forwarded)")
        if compare { twin = fresh }
    }

    private mutating func finishLogin(_ kind: UInt8) {
        guard loggingIn else {
            fuzzCheck(call { $0.loginFinished(.unknownUser) }.isEmpty, "a login outcome answered without a login")
            return
        }
        loggingIn = false
        let outcome: LoginOutcome
        switch kind {
        case 0: outcome = .success(text: Machine.success)
        case 1: outcome = .rejected(text: Machine.rejection)
        case 2: outcome = .unknownUser
        default: outcome = .unavailable(reason: "Backend unreachable.")
        }
        bytesIn += 64
        handle(call { $0.loginFinished(outcome) })
    }

    /// Records what the machine did, up to its first STARTTLS: past it, a read that held the STARTTLS and
    /// more differs from two reads (what came with it is dropped; a later read is taken after the handshake).
    private mutating func record(_ actions: [FrontEndAction]) {
        for action in actions {
            if case .send(let bytes) = action {
                bytesOut += bytes.count
                output += bytes
            }
            if transcript.actions.contains("startTLS") { continue }
            switch action {
            case .send(let bytes): transcript.sent += bytes
            case .startTLS: transcript.actions.append("startTLS")
            case .login(let request): transcript.actions.append("login \(request.credentials.user)")
            // How much was pipelined depends on the reads before the outcome; `handle` checks the bytes.
            case .relay: transcript.actions.append("relay")
            case .close: transcript.actions.append("close \(machine.closeReason?.rawValue ?? "?")")
            case .yield: break
            }
        }
    }

    private mutating func handle(_ first: [FrontEndAction]) {
        var pending = first
        var rounds = 0
        while !pending.isEmpty {
            rounds += 1
            fuzzCheck(rounds < 100_000, "the machine loops")
            let actions = pending
            pending = []
            record(actions)
            for (index, action) in actions.enumerated() {
                if case .send = action { continue }
                fuzzCheck(index == actions.count - 1, "\(action) is not the last action of \(actions)")
                fuzzCheck(!ended, "\(action) after the end")
                switch action {
                case .send: break
                case .close:
                    ended = true
                case .relay(let pipelined):
                    fuzzCheck(loginEnd <= accepted.count, "relay before a login")
                    fuzzCheck(
                        pipelined == Array(accepted[min(loginEnd, accepted.count)...]),
                        "relay forwards \(pipelined.count) bytes, not the \(accepted.count - loginEnd) after the login")
                    ended = true
                case .startTLS:
                    awaitingTLS = true
                    if setup.autoTLS { handshakeFinished() }
                case .login(let request):
                    let end = accepted.count - machine.bufferedCount
                    fuzzCheck(end > 0 && accepted[end - 1] == 10, "a login before its command ended (at \(end))")
                    loginEnd = end
                    loggingIn = true
                    logins += 1
                    note(request.credentials)
                    if setup.autoOutcome { finishLogin(UInt8((logins + 1) % 4)) }
                case .yield:
                    pending = call { $0.resume() }
                }
            }
        }
    }

    /// Keeps the secrets a login carried that could not appear in the machine's own texts: a password, or a
    /// field of a token's response, of at least four bytes with a byte outside printable ASCII or one of
    /// `~^|`$#&!` (no reply text of Postern's has them).
    private mutating func note(_ credentials: Credentials) {
        var candidates = [Array(credentials.password.utf8)]
        if let passThrough = credentials.passThrough {
            candidates += passThrough.response.split(separator: 1).map(Array.init)
        }
        let marks = Set("~^|`$#&!".utf8)
        for candidate in candidates where candidate.count >= 4 {
            if candidate.contains(where: { $0 >= 0x80 || ($0 < 0x20 && $0 != 10 && $0 != 13) || marks.contains($0) }) {
                secrets.append(candidate)
            }
        }
    }
}

private func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
    guard !needle.isEmpty, haystack.count >= needle.count else { return false }
    for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
        if haystack[start..<(start + needle.count)].elementsEqual(needle) { return true }
    }
    return false
}

/// Whether a line of the stream ends in a synchronizing literal header `{n}` (conservative).
private func holdsSynchronizingLiteral(_ stream: [UInt8]) -> Bool {
    var from = 0
    while let lf = stream[from...].firstIndex(of: 10) {
        let end = lf > from && stream[lf - 1] == 13 ? lf - 1 : lf
        if let header = IMAPCommandReader.literalHeader(stream[max(from, end - 14)..<end]), !header.nonSync {
            return true
        }
        from = lf + 1
    }
    return false
}

@_cdecl("FuzzFrontEnd_main")
public func fuzzFrontEndMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzFrontEnd)
}
