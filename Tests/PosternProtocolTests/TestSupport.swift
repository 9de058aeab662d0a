import XCTest

@testable import PosternProtocol

/// The UTF-8 bytes of a string.
func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// Bytes as text, for readable assertion messages.
func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

/// Splits `data` into chunks of the given sizes (cycled); the last chunk takes the rest.
func chunked(_ data: [UInt8], sizes: [Int]) -> [[UInt8]] {
    precondition(!sizes.isEmpty && sizes.allSatisfy { $0 > 0 })
    var chunks: [[UInt8]] = []
    var index = 0
    var sizeIndex = 0
    while index < data.count {
        let end = min(data.count, index + sizes[sizeIndex % sizes.count])
        chunks.append(Array(data[index..<end]))
        index = end
        sizeIndex += 1
    }
    return chunks
}

/// A small deterministic PRNG (SplitMix64) so that randomised tests are reproducible.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension IMAPCommandReader {
    /// Appends `data` and returns every event it produces.
    mutating func feed(_ data: [UInt8]) -> [Event] {
        append(data)
        return drain()
    }

    /// Appends `text` and returns every event it produces.
    mutating func feed(_ text: String) -> [Event] { feed(bytes(text)) }

    /// Every event available without more input.
    mutating func drain() -> [Event] {
        var events: [Event] = []
        while let event = next() { events.append(event) }
        return events
    }

    /// Feeds `data` in the given chunk sizes and collects every event.
    mutating func feed(_ data: [UInt8], chunkSizes: [Int]) -> [Event] {
        chunked(data, sizes: chunkSizes).flatMap { feed($0) }
    }
}

/// Shorthand for a parsed command event.
func command(_ tag: String, _ name: String, _ arguments: [IMAPArgument] = []) -> IMAPCommandReader.Event {
    .command(IMAPCommand(tag: tag, name: name, arguments: arguments))
}

/// A quoted-string or literal argument holding `text`.
func string(_ text: String) -> IMAPArgument { .string(bytes(text)) }

/// Everything the actions send, concatenated, as text.
func sentText(_ actions: [FrontEndAction]) -> String {
    actions.map { action -> String in
        if case .send(let data) = action { return text(data) }
        return ""
    }.joined()
}

/// Actions collected over several calls, with adjacent sends joined as one call would join them.
func coalesced(_ actions: [FrontEndAction]) -> [FrontEndAction] {
    var output: [FrontEndAction] = []
    for action in actions {
        if case .send(let data) = action, case .send(let previous)? = output.last {
            output[output.count - 1] = .send(previous + data)
        } else {
            output.append(action)
        }
    }
    return output
}

/// The `.send` action for a text.
func send(_ text: String) -> FrontEndAction { .send(bytes(text)) }

/// The `.send` action for a text, to a backend.
func backSend(_ text: String) -> BackEndAction { .send(bytes(text)) }

/// Front-end options with the defaults most tests use: plaintext STARTTLS listener, logins allowed.
func frontEndOptions(
    starttlsOffered: Bool = true, tlsActive: Bool = false, tlsRequiredForLogin: Bool = false,
    maxLine: Int = 8192, maxLoginAttempts: Int = 3, mechanisms: [SASLMechanism] = SASLMechanism.defaults
) -> FrontEndOptions {
    FrontEndOptions(
        starttlsOffered: starttlsOffered, tlsActive: tlsActive, tlsRequiredForLogin: tlsRequiredForLogin,
        maxLine: maxLine, maxLoginAttempts: maxLoginAttempts, mechanisms: mechanisms)
}

/// A front end past its greeting.
func makeFrontEnd(_ options: FrontEndOptions = frontEndOptions()) -> IMAPFrontEnd {
    var frontEnd = IMAPFrontEnd(options: options)
    _ = frontEnd.greeting()
    return frontEnd
}

extension IMAPFrontEnd {
    /// Feeds a text from the client.
    mutating func receive(_ text: String) -> [FrontEndAction] { receive(bytes(text)) }
}

extension FrontEndMachine {
    /// Feeds `data` in chunks of the given sizes and collects every action.
    mutating func receive(_ data: [UInt8], chunkSizes: [Int]) -> [FrontEndAction] {
        chunked(data, sizes: chunkSizes).flatMap { receive($0) }
    }
}

/// The `.login` action for credentials.
func loginAction(_ user: String, _ password: String, authzid: String? = nil, mechanism: LoginMechanism)
    -> FrontEndAction
{
    .login(
        LoginRequest(credentials: Credentials(user: user, password: password, authzid: authzid), mechanism: mechanism))
}
