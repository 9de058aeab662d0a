// The SASL decoders: base64, PLAIN (with authzid), LOGIN, XOAUTH2 and the OAUTHBEARER GS2 header, and the
// server exchange that strings them together.
//
// Input: one control byte (mechanism, and whether responses are base64 lines), then client responses
// separated by LF.
import FuzzSupport
import PosternProtocol

/// The reasons `SASLServerExchange` may give for a malformed response: fixed text, never the client's bytes.
private let knownReasons: Set<String> = [
    "Malformed PLAIN response", "Malformed LOGIN response", "Empty user name", "Malformed XOAUTH2 response",
    "Malformed OAUTHBEARER response", "Channel binding cannot be passed through a proxy",
    "OAUTHBEARER needs the user (a=) to choose a server",
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSASL(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let control = input.byte()
    let whole = Array(input.rest)
    checkBase64(whole)
    checkPlain(whole)
    checkTokenUsers(whole)

    let mechanism = SASLMechanism.allCases[Int(control & 3)]
    let encoded = control & 4 != 0
    var exchange = SASLServerExchange(mechanism: mechanism)
    var responses: [[UInt8]] = []
    while !input.rest.isEmpty && responses.count < 8 { responses.append(input.piece(upTo: 0x0A)) }
    var step = exchange.start(initialResponse: control & 8 != 0 ? nil : responses.first)
    var index = control & 8 != 0 ? 0 : 1
    var rounds = 0
    while case .challenge(let challenge) = step, index < responses.count {
        rounds += 1
        fuzzCheck(rounds <= 2, "\(mechanism) asked for more than two responses")
        fuzzCheck(challenge.count <= 16, "challenge of \(challenge.count) bytes")
        var response = responses[index]
        index += 1
        if encoded {
            switch SASLServerExchange.decodeResponse(response) {
            case .data(let bytes): response = bytes
            case .cancelled, .invalidBase64: return 0
            }
        }
        step = exchange.next(response)
    }
    switch step {
    case .challenge: break
    case .malformed(let reason):
        fuzzCheck(knownReasons.contains(reason), "malformed reason is not a fixed text: \(reason)")
    case .done(let request):
        checkLogin(request, mechanism: mechanism)
    }
    return 0
}

/// Whatever decodes re-encodes to base64 of the same length that decodes to the same bytes; encoding
/// always decodes back.
private func checkBase64(_ bytes: [UInt8]) {
    let encoded = SASL.base64Encode(bytes)
    fuzzCheck(encoded.utf8.count == (bytes.count + 2) / 3 * 4, "base64 length")
    fuzzCheck(SASL.base64Decode(Array(encoded.utf8)) == bytes, "base64 encode/decode round trip")
    guard let decoded = SASL.base64Decode(bytes) else { return }
    let again = SASL.base64Encode(decoded)
    fuzzCheck(again.utf8.count == bytes.count, "decoded base64 re-encodes to another length")
    // Non-zero pad bits are accepted (RFC 4648 3.5 allows it), so only the decoded bytes must agree.
    fuzzCheck(SASL.base64Decode(Array(again.utf8)) == decoded, "base64 decode/encode round trip")
    if bytes == [UInt8(ascii: "=")] {
        fuzzCheck(SASLServerExchange.decodeInitialResponse(bytes) == .data([]), "'=' is the empty initial response")
    }
}

/// PLAIN: a decoded message has a non-empty user and no NUL in any part, and encodes back to the same bytes.
private func checkPlain(_ bytes: [UInt8]) {
    guard let credentials = SASL.decodePlain(bytes) else {
        fuzzCheck(bytes.filter { $0 == 0 }.count != 2 || !validUTF8Parts(bytes), "valid PLAIN message refused")
        return
    }
    fuzzCheck(!credentials.user.isEmpty, "PLAIN gave an empty user")
    fuzzCheck(!credentials.user.utf8.contains(0), "PLAIN gave a user with NUL")
    fuzzCheck(!credentials.password.utf8.contains(0), "PLAIN gave a password with NUL")
    fuzzCheck(credentials.authzid.map { !$0.isEmpty && !$0.utf8.contains(0) } ?? true, "PLAIN authzid")
    fuzzCheck(SASL.encodePlain(credentials) == bytes, "PLAIN decode/encode round trip")
    fuzzCheck(SASL.decodePlain(SASL.encodePlain(credentials)) == credentials, "PLAIN encode/decode round trip")
    checkRedacted(credentials)
}

private func validUTF8Parts(_ bytes: [UInt8]) -> Bool {
    let parts = bytes.split(separator: 0, omittingEmptySubsequences: false)
    return parts.count == 3 && !parts[1].isEmpty
        && parts.allSatisfy { String(validating: $0, as: UTF8.self) != nil }
}

/// XOAUTH2 and OAUTHBEARER: a user taken from a token response is non-empty, bounded, UTF-8 and free of
/// control characters.
private func checkTokenUsers(_ bytes: [UInt8]) {
    if let user = SASL.xoauth2User(bytes) { checkTokenUser(user) }
    if case .success(let user) = SASL.oauthBearerUser(bytes) { checkTokenUser(user) }
}

private func checkTokenUser(_ user: String) {
    fuzzCheck(!user.isEmpty && user.utf8.count <= 1024, "token user of \(user.utf8.count) bytes")
    fuzzCheck(!user.utf8.contains { $0 < 0x20 || $0 == 0x7F }, "control character in a token user")
}

private func checkLogin(_ request: LoginRequest, mechanism: SASLMechanism) {
    let credentials = request.credentials
    fuzzCheck(!credentials.user.isEmpty, "\(mechanism) gave an empty user")
    fuzzCheck(!credentials.user.utf8.contains(0), "\(mechanism) gave a user with NUL")
    fuzzCheck(!credentials.password.utf8.contains(0), "\(mechanism) gave a password with NUL")
    switch mechanism {
    case .plain, .login:
        fuzzCheck(credentials.passThrough == nil, "\(mechanism) carries a pass-through response")
    case .xoauth2, .oauthbearer:
        fuzzCheck(credentials.passThrough?.mechanism == mechanism, "pass-through mechanism")
        fuzzCheck(credentials.password.isEmpty, "token login with a password")
        checkTokenUser(credentials.user)
    }
    checkRedacted(credentials)
}

/// The description of credentials (what could reach a log) does not depend on the password or the token.
private func checkRedacted(_ credentials: Credentials) {
    var other = credentials
    other.password = credentials.password == "x" ? "y" : "x"
    other.passThrough?.response = credentials.passThrough?.response == [1] ? [2] : [1]
    fuzzCheck(other.description == credentials.description, "the description shows the password or token")
    fuzzCheck(other.debugDescription == credentials.debugDescription, "the debug description shows the secret")
}

@_cdecl("FuzzSASL_main")
public func fuzzSASLMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzSASL)
}
