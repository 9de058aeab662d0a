/// What a back-end login tells a backend that trusts Postern about the client (`backend.forward_client`):
/// IMAP `ID` fields before the login, or POP3 and ManageSieve `XCLIENT` when the backend offers it.
///
/// Every value is checked before it goes on the wire: one with a control character (CR, LF, NUL, ...) is
/// left out, and so is an `XCLIENT` value with a space. The client's own `ID` fields are passed on, except
/// those Postern sets itself and every `x-` field (Dovecot trusts `x-` fields from its trusted networks, so
/// a client must not be able to set them through Postern).
public struct ForwardedClient: Sendable, Equatable {
    /// The client's IP address (`x-originating-ip`, `XCLIENT ADDR`).
    public var address: String
    /// The client's TCP port (`x-originating-port`, `XCLIENT PORT`).
    public var port: Int
    /// The address and port the client connected to (`x-connected-ip`, `x-connected-port`), when known.
    public var localAddress: String?
    public var localPort: Int?
    /// Postern's session id (`x-session-ext-id`, `XCLIENT SESSION`).
    public var sessionID: String
    /// The loop-protection count this hop sends (`x-proxy-ttl`, `XCLIENT TTL`), already decremented.
    public var ttl: Int
    /// The client's own pre-login `ID` fields, in the order it sent them.
    public var clientID: [IDParameter]

    /// The TTL a login starts with when the client sent none (Dovecot's default).
    public static let defaultTTL = 5
    /// RFC 2971 limits: field names up to 30 octets, values up to 1024, at most 30 pairs.
    static let maxIDName = 30
    static let maxIDValue = 1024
    static let maxIDPairs = 30

    public init(
        address: String, port: Int, localAddress: String? = nil, localPort: Int? = nil, sessionID: String,
        ttl: Int = ForwardedClient.defaultTTL - 1, clientID: [IDParameter] = []
    ) {
        self.address = address
        self.port = port
        self.localAddress = localAddress
        self.localPort = localPort
        self.sessionID = sessionID
        self.ttl = ttl
        self.clientID = clientID
    }

    /// The TTL to send for a login whose client sent `clientTTL` (its `x-proxy-ttl`), or nil when the count ran
    /// out (a proxy loop: the login is refused). The client's value can only lower the count: it is capped at
    /// ``defaultTTL``, and anything that is not a decimal number is ignored.
    public static func nextTTL(clientTTL: String?) -> Int? {
        var incoming = defaultTTL
        if let clientTTL, let value = Int(clientTTL), clientTTL.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            incoming = min(value, defaultTTL)
        }
        let next = incoming - 1
        return next >= 1 ? next : nil
    }

    /// True when `text` may go into an `ID` string, an `XCLIENT` value or a PROXY TLV: no C0 control
    /// character (CR, LF, NUL, TAB, ...) and no DEL.
    public static func isSafe(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 >= 0x20 && $0 != 0x7F }
    }

    /// The fields Postern sets; a client's field of the same name is dropped.
    static let ownFields: Set<String> = [
        "x-originating-ip", "x-originating-port", "x-connected-ip", "x-connected-port", "x-session-ext-id",
        "x-proxy-ttl",
    ]

    /// The `ID` fields to send: the client's (filtered), then Postern's, each checked.
    public var idFields: [IDParameter] {
        var own: [IDParameter] = [
            IDParameter("x-originating-ip", address), IDParameter("x-originating-port", String(port)),
        ]
        if let localAddress { own.append(IDParameter("x-connected-ip", localAddress)) }
        if let localPort { own.append(IDParameter("x-connected-port", String(localPort))) }
        own.append(IDParameter("x-session-ext-id", sessionID))
        own.append(IDParameter("x-proxy-ttl", String(ttl)))
        own = own.filter(Self.fitsInID)
        let passed = clientID.filter { field in
            let name = field.name.lowercased()
            return !name.hasPrefix("x-") && Self.fitsInID(field)
        }
        return Array(passed.prefix(Self.maxIDPairs - own.count)) + own
    }

    /// `TAG ID ("name" "value" ...)` with CRLF.
    public func imapIDCommand(tag: String) -> [UInt8] {
        let list = idFields.map { field in
            Self.quoted(field.name) + " " + (field.value.map(Self.quoted) ?? "NIL")
        }
        return Array("\(tag) ID (\(list.joined(separator: " ")))\r\n".utf8)
    }

    /// `XCLIENT ADDR=... PORT=... SESSION=... TTL=...` with CRLF; a value that is not safe is left out.
    public var xclientCommand: [UInt8] {
        let pairs = [("ADDR", address), ("PORT", String(port)), ("SESSION", sessionID), ("TTL", String(ttl))]
        let fields = pairs.filter { Self.fitsInXCLIENT($0.1) }.map { "\($0.0)=\($0.1)" }
        return Array("XCLIENT \(fields.joined(separator: " "))\r\n".utf8)
    }

    static func fitsInID(_ field: IDParameter) -> Bool {
        guard !field.name.isEmpty, field.name.utf8.count <= maxIDName, isSafe(field.name) else { return false }
        guard let value = field.value else { return true }
        return value.utf8.count <= maxIDValue && isSafe(value)
    }

    static func fitsInXCLIENT(_ value: String) -> Bool {
        !value.isEmpty && isSafe(value) && !value.contains(" ")
    }

    /// An IMAP quoted string: `"` and `\` escaped (the caller checked there is no CR, LF or NUL).
    static func quoted(_ text: String) -> String {
        var out = "\""
        for character in text {
            if character == "\"" || character == "\\" { out.append("\\") }
            out.append(character)
        }
        return out + "\""
    }
}
