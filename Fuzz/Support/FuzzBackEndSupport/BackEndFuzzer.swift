import FuzzSupport
import PosternProtocol

/// A back-end login machine the shared driver can build.
public protocol FuzzedBackEnd: BackEndLoginMachine {
    init(credentials: Credentials, options: BackEndOptions)
}

extension IMAPBackEndLogin: FuzzedBackEnd {}
extension POP3BackEndLogin: FuzzedBackEnd {}
extension SieveBackEndLogin: FuzzedBackEnd {}

/// Drives a back-end login machine with hostile backend bytes and TLS handshakes at points the fuzzer picks,
/// and checks what every back-end login must keep (see the comment at the top of `Fuzz/FuzzIMAPBackEnd.swift`).
///
/// Input: two control bytes (options, credentials), a count byte and that many event bytes (below 0xE0: a
/// read of that many bytes + 1; from 0xE0: the TLS handshake finished), then the backend's bytes; what the
/// events leave is one last read.
public struct BackEndFuzzer<Machine: FuzzedBackEnd> {
    /// Lines (IMAP, POP3) or bytes (ManageSieve, whose literals may hold line ends) counted against the bound.
    public enum Unit: Sendable {
        case lines
        case bytes
    }

    /// The password, and a bearer token's secret part: texts no backend line or command of Postern's has.
    static var password: String { "Pw~sEcReT!9" }
    static var token: String { "TOKEN~xyz!42" }

    private let options: BackEndOptions
    private let credentials: Credentials
    private let unit: Unit
    private let autoTLS: Bool
    /// The forms the credentials take on the wire: raw, base64, a PLAIN message, a token response.
    private let secretForms: [[UInt8]]

    private var machine: Machine
    /// The machine that never saw the bytes after a STARTTLS OK, fed the same from there on.
    private var twin: Machine?
    /// Backend bytes the machine took (not those after a STARTTLS OK or while it waited for the handshake).
    private var accepted: [UInt8] = []
    private var bytesOut = 0
    private var sent: [UInt8] = []
    private var secretsSent = 0
    private var startTLSCount = 0
    private var awaitingTLS = false
    private var tlsDone = false
    private var warnedPlaintext = false
    private var finished = false

    public static func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int, unit: Unit) {
        var input = FuzzInput(data, size)
        var fuzzer = BackEndFuzzer(&input, unit: unit)
        let events = (0..<Int(input.byte() % 32)).map { _ in input.byte() }
        var stream = input.remainder()[...]
        for event in events {
            if event >= 0xE0 {
                fuzzer.handshakeFinished()
                continue
            }
            let read = stream.prefix(Int(event) + 1)
            stream = stream.dropFirst(read.count)
            if !read.isEmpty { fuzzer.receive(Array(read)) }
        }
        if !stream.isEmpty { fuzzer.receive(Array(stream)) }
        fuzzer.finish()
    }

    private init(_ input: inout FuzzInput, unit: Unit) {
        let first = input.byte()
        let second = input.byte()
        self.unit = unit
        var options = BackEndOptions(
            useStartTLS: first & 1 != 0, allowPlaintextFallback: first & 2 != 0,
            maxLine: [16, 64, 256, 4096][Int(first >> 5 & 3)])
        options.maxCapabilityLines = [0, 1, 4, 200][Int(second & 3)]
        if first & 4 != 0 {
            options.forwardedClient = ForwardedClient(
                address: "192.0.2.7", port: 40_000, localAddress: "198.51.100.1", localPort: 143, sessionID: "s1",
                clientID: [IDParameter("name", "fuzz")])
        }
        self.options = options
        autoTLS = second & 4 == 0
        let user = "alice"
        switch first >> 3 & 3 {
        case 0: credentials = Credentials(user: user, password: Self.password)
        case 1: credentials = Credentials(user: user, password: Self.password, authzid: "bob")
        case 2:
            credentials = Credentials(
                user: user,
                passThrough: SASLPassThrough(
                    mechanism: .xoauth2, response: Array("user=alice\u{1}auth=Bearer \(Self.token)\u{1}\u{1}".utf8)))
        default:
            credentials = Credentials(
                user: user,
                passThrough: SASLPassThrough(
                    mechanism: .oauthbearer,
                    response: Array("n,a=alice,\u{1}auth=Bearer \(Self.token)\u{1}\u{1}".utf8)))
        }
        var forms: [[UInt8]] = [Array(Self.password.utf8), Array(SASL.base64Encode(Array(Self.password.utf8)).utf8)]
        forms.append(Array(SASL.base64Encode(SASL.encodePlain(credentials)).utf8))
        if let passThrough = credentials.passThrough {
            forms = [Array(Self.token.utf8), Array(SASL.base64Encode(passThrough.response).utf8)]
        }
        secretForms = forms
        machine = Machine(credentials: credentials, options: options)
    }

    private mutating func receive(_ bytes: [UInt8]) {
        guard !finished, !awaitingTLS else {
            fuzzCheck(machine.receive(bytes).isEmpty, "bytes interpreted after the outcome or a STARTTLS OK")
            if var other = twin {
                fuzzCheck(other.receive(bytes).isEmpty, "the twin interpreted bytes")
                twin = other
            }
            return
        }
        let before = machine
        let actions = machine.receive(bytes)
        var taken = bytes.count
        if var other = twin {
            fuzzCheck(other.receive(bytes) == actions, "after a STARTTLS OK, bytes before the handshake counted")
            twin = other
        } else if actions.contains(.startTLS) {
            // The shortest prefix of this read that brings the STARTTLS OK; a machine fed only that must do
            // exactly the same, now and later: what followed the OK is never interpreted.
            var low = 1
            var high = bytes.count
            while low < high {
                let middle = (low + high) / 2
                var probe = before
                if probe.receive(Array(bytes[..<middle])).contains(.startTLS) {
                    high = middle
                } else {
                    low = middle + 1
                }
            }
            var other = before
            let answer = other.receive(Array(bytes[..<low]))
            fuzzCheck(answer == actions, "bytes after the STARTTLS OK changed the answer: \(actions) vs \(answer)")
            twin = other
            taken = low
        }
        accepted += bytes[..<taken]
        handle(actions)
        if !finished && !awaitingTLS { checkBound() }
    }

    private mutating func handshakeFinished() {
        let wasAwaiting = awaitingTLS
        let actions = machine.tlsEstablished()
        if var other = twin {
            fuzzCheck(other.tlsEstablished() == actions, "the handshake's end differs after the STARTTLS OK")
            twin = other
        }
        guard wasAwaiting else {
            fuzzCheck(actions.isEmpty, "a handshake end answered without STARTTLS: \(actions)")
            return
        }
        awaitingTLS = false
        tlsDone = true
        handle(actions)
    }

    private mutating func handle(_ actions: [BackEndAction]) {
        for (index, action) in actions.enumerated() {
            fuzzCheck(!finished, "\(action) after the outcome")
            switch action {
            case .send(let bytes):
                let count = secretForms.reduce(0) { $0 + occurrences(of: $1, in: bytes) }
                if count > 0 {
                    fuzzCheck(
                        tlsDone || !options.useStartTLS || (options.allowPlaintextFallback && warnedPlaintext),
                        "credentials sent before TLS")
                }
                secretsSent += count
                fuzzCheck(secretsSent <= 1, "credentials sent \(secretsSent) times")
                fuzzCheck(
                    options.forwardedClient != nil || !contains(bytes, Array("XCLIENT".utf8)),
                    "XCLIENT without a forwarded client")
                sent += bytes
                bytesOut += bytes.count
            case .startTLS:
                fuzzCheck(index == actions.count - 1, ".startTLS is not the last action")
                fuzzCheck(options.useStartTLS, "STARTTLS without use_starttls")
                startTLSCount += 1
                fuzzCheck(startTLSCount == 1 && !tlsDone, "a second STARTTLS")
                awaitingTLS = true
                if autoTLS { handshakeFinished() }
            case .notice(let text):
                if text.contains("WITHOUT TLS") {
                    fuzzCheck(options.allowPlaintextFallback, "a plaintext fallback that was not allowed")
                    warnedPlaintext = true
                }
            case .succeeded(let text, let leftover):
                fuzzCheck(index == actions.count - 1, ".succeeded is not the last action")
                finished = true
                checkText(text)
                fuzzCheck(
                    leftover.count < accepted.count && accepted.suffix(leftover.count).elementsEqual(leftover)
                        && accepted[accepted.count - leftover.count - 1] == 10,
                    "leftover is not what followed the final line")
            case .failed(let outcome):
                fuzzCheck(index == actions.count - 1, ".failed is not the last action")
                finished = true
                switch outcome {
                case .rejected(let text):
                    checkText(text)
                case .unavailable(let reason):
                    fuzzCheck(
                        !reason.isEmpty && reason.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F }, "reason '\(reason)'")
                case .success, .unknownUser:
                    fuzzCheck(false, "a back-end login failed with \(outcome)")
                }
            }
        }
        if finished { fuzzCheck(!machine.holdsCredentials, "credentials kept after the outcome") }
    }

    /// A text the client sees: one line.
    private func checkText(_ text: String) {
        guard unit == .lines else { return }
        fuzzCheck(!text.utf8.contains { $0 == 10 || $0 == 13 || $0 == 0 }, "CR, LF or NUL in '\(text)'")
    }

    /// A machine that waits for more has read at most the capability bound and a few protocol lines.
    private func checkBound() {
        let slack = 16
        switch unit {
        case .lines:
            let lines = accepted.reduce(0) { $0 + ($1 == 10 ? 1 : 0) }
            fuzzCheck(lines <= options.maxCapabilityLines + slack, "\(lines) lines read without an outcome")
        case .bytes:
            let bound = (options.maxCapabilityLines + slack) * (5 * options.maxLine + 16)
            fuzzCheck(accepted.count <= bound, "\(accepted.count) bytes read without an outcome")
        }
    }

    private mutating func finish() {
        fuzzCheck(
            bytesOut <= 64 * accepted.count + 8192, "\(bytesOut) bytes sent for \(accepted.count) received")
        if finished {
            fuzzCheck(machine.receive(Array("* OK\r\n".utf8)).isEmpty, "bytes interpreted after the outcome")
            var copy = machine
            fuzzCheck(copy.tlsEstablished().isEmpty, "a handshake answered after the outcome")
        }
    }
}

private func occurrences(of needle: [UInt8], in haystack: [UInt8]) -> Int {
    guard !needle.isEmpty, haystack.count >= needle.count else { return 0 }
    var count = 0
    for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
        if haystack[start..<(start + needle.count)].elementsEqual(needle) { count += 1 }
    }
    return count
}

private func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool { occurrences(of: needle, in: haystack) > 0 }
