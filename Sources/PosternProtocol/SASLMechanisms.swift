/// A SASL mechanism a front end can offer to clients.
public enum SASLMechanism: String, Sendable, Equatable, CaseIterable {
    /// RFC 4616: authzid, authcid and password in one message.
    case plain = "PLAIN"
    /// The user name and the password in two steps (draft-murchison-sasl-login).
    case login = "LOGIN"
    /// Google's bearer-token mechanism; passed through to the backend.
    case xoauth2 = "XOAUTH2"
    /// RFC 7628 bearer tokens; passed through to the backend.
    case oauthbearer = "OAUTHBEARER"

    /// What a listener offers when its configuration does not say.
    public static let defaults: [SASLMechanism] = [.plain, .login]

    /// The mechanism carries a token only the backend can check.
    public var isPassThrough: Bool { self == .xoauth2 || self == .oauthbearer }
}

/// The server side of one SASL exchange with a client, whatever protocol frames it: the front end
/// decodes each client response (`decodeResponse`) and feeds it here; the exchange asks for more or
/// ends with a login request.
public struct SASLServerExchange: Sendable {
    /// What comes next in the exchange.
    public enum Step: Sendable, Equatable {
        /// Send this challenge (raw bytes; the front end base64-encodes it) and wait for a response.
        case challenge([UInt8])
        /// The exchange is complete: route and log in.
        case done(LoginRequest)
        /// The response cannot be used; the reason is safe to show (it never quotes the response).
        case malformed(String)
    }

    /// A client response line, decoded.
    public enum Response: Sendable, Equatable {
        case data([UInt8])
        /// The client sent `*`.
        case cancelled
        case invalidBase64
    }

    public let mechanism: SASLMechanism
    /// The user name received so far (LOGIN).
    private var loginUser: String?

    public init(mechanism: SASLMechanism) { self.mechanism = mechanism }

    /// The prompts of the LOGIN mechanism (what Dovecot and Cyrus send).
    static let userPrompt = Array("Username:".utf8)
    static let passwordPrompt = Array("Password:".utf8)

    /// Decodes one response line: `*` cancels, anything else must be base64 (empty is an empty response).
    public static func decodeResponse(_ line: [UInt8]) -> Response {
        if line == [UInt8(ascii: "*")] { return .cancelled }
        guard let data = SASL.base64Decode(line) else { return .invalidBase64 }
        return .data(data)
    }

    /// Decodes an initial response sent with the command: `=` stands for an empty response (RFC 4959, 5034).
    public static func decodeInitialResponse(_ text: [UInt8]) -> Response {
        if text == [UInt8(ascii: "=")] { return .data([]) }
        guard let data = SASL.base64Decode(text) else { return .invalidBase64 }
        return .data(data)
    }

    /// Starts the exchange; `initialResponse` is nil when the client sent none.
    public mutating func start(initialResponse: [UInt8]?) -> Step {
        guard let initialResponse else {
            return .challenge(mechanism == .login ? Self.userPrompt : [])
        }
        return next(initialResponse)
    }

    /// Feeds the client's next (decoded) response.
    public mutating func next(_ response: [UInt8]) -> Step {
        switch mechanism {
        case .plain:
            guard let credentials = SASL.decodePlain(response) else { return .malformed("Malformed PLAIN response") }
            return .done(LoginRequest(credentials: credentials, mechanism: .plain))
        case .login:
            guard let text = String(validating: response, as: UTF8.self), !text.contains("\0") else {
                return .malformed("Malformed LOGIN response")
            }
            guard let user = loginUser else {
                guard !text.isEmpty else { return .malformed("Empty user name") }
                loginUser = text
                return .challenge(Self.passwordPrompt)
            }
            return .done(LoginRequest(credentials: Credentials(user: user, password: text), mechanism: .saslLogin))
        case .xoauth2:
            guard let user = SASL.xoauth2User(response) else { return .malformed("Malformed XOAUTH2 response") }
            return .done(
                LoginRequest(
                    credentials: Credentials(
                        user: user, passThrough: SASLPassThrough(mechanism: .xoauth2, response: response)),
                    mechanism: .xoauth2))
        case .oauthbearer:
            switch SASL.oauthBearerUser(response) {
            case .success(let user):
                return .done(
                    LoginRequest(
                        credentials: Credentials(
                            user: user, passThrough: SASLPassThrough(mechanism: .oauthbearer, response: response)),
                        mechanism: .oauthbearer))
            case .failure(let error):
                return .malformed(error.reason)
            }
        }
    }
}

/// Why an OAUTHBEARER response cannot be routed.
public struct SASLFormatError: Error, Sendable, Equatable {
    public var reason: String
}

extension SASL {
    /// The longest user name taken from a token response.
    static let maxUserLength = 1024

    /// The user of an XOAUTH2 response `user=NAME ^A auth=Bearer TOKEN ^A ^A`; nil when malformed.
    public static func xoauth2User(_ response: [UInt8]) -> String? {
        let fields = response.split(separator: 1, omittingEmptySubsequences: false)
        // user=..., auth=..., then the two closing ^A give two empty fields.
        guard fields.count >= 4, fields[fields.count - 1].isEmpty, fields[fields.count - 2].isEmpty else {
            return nil
        }
        let prefix = Array("user=".utf8)
        guard fields[0].starts(with: prefix) else { return nil }
        let name = fields[0].dropFirst(prefix.count)
        guard fields.dropFirst().contains(where: { $0.starts(with: Array("auth=".utf8)) }) else { return nil }
        return validUser(name)
    }

    /// The authorization identity (`a=`) of an OAUTHBEARER response (RFC 7628): the GS2 header
    /// `n,a=NAME,` (or `y,a=NAME,`) followed by `^A`-separated key/value pairs with `auth=`.
    public static func oauthBearerUser(_ response: [UInt8]) -> Result<String, SASLFormatError> {
        let malformed = SASLFormatError(reason: "Malformed OAUTHBEARER response")
        guard let firstSeparator = response.firstIndex(of: 1) else { return .failure(malformed) }
        let header = response[..<firstSeparator]
        let kvpairs = response[(firstSeparator + 1)...].split(separator: 1, omittingEmptySubsequences: false)
        guard kvpairs.count >= 2, kvpairs.last?.isEmpty == true,
            kvpairs.contains(where: { $0.starts(with: Array("auth=".utf8)) })
        else { return .failure(malformed) }
        let parts = header.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
        guard parts.count == 3, parts[2].isEmpty, let flag = parts.first else { return .failure(malformed) }
        if flag.starts(with: Array("p=".utf8)) {
            return .failure(SASLFormatError(reason: "Channel binding cannot be passed through a proxy"))
        }
        guard flag.elementsEqual([UInt8(ascii: "n")]) || flag.elementsEqual([UInt8(ascii: "y")]) else {
            return .failure(malformed)
        }
        let authzid = parts[1]
        guard authzid.starts(with: Array("a=".utf8)) else {
            return .failure(SASLFormatError(reason: "OAUTHBEARER needs the user (a=) to choose a server"))
        }
        guard let name = gs2Unescape(authzid.dropFirst(2)), let user = validUser(name[...]) else {
            return .failure(malformed)
        }
        return .success(user)
    }

    /// Undoes GS2's `=2C` (`,`) and `=3D` (`=`) escapes; nil for any other `=` sequence.
    static func gs2Unescape(_ bytes: ArraySlice<UInt8>) -> [UInt8]? {
        var out: [UInt8] = []
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "=") {
                guard index + 2 < bytes.endIndex else { return nil }
                let code = Array(bytes[(index + 1)...(index + 2)])
                if code == Array("2C".utf8) {
                    out.append(UInt8(ascii: ","))
                } else if code == Array("3D".utf8) {
                    out.append(UInt8(ascii: "="))
                } else {
                    return nil
                }
                index += 3
            } else {
                out.append(byte)
                index += 1
            }
        }
        return out
    }

    /// A non-empty UTF-8 user name without control characters, of bounded length.
    static func validUser(_ bytes: ArraySlice<UInt8>) -> String? {
        guard !bytes.isEmpty, bytes.count <= maxUserLength, !bytes.contains(where: { $0 < 0x20 || $0 == 0x7F }),
            let text = String(validating: bytes, as: UTF8.self)
        else { return nil }
        return text
    }
}
