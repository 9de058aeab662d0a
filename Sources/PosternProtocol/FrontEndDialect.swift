/// One protocol's part of the front-end engine: its reader, its commands and the form of its replies.
///
/// The engine (`FrontEndEngine`) owns the dialogue: states, STARTTLS, SASL, login outcomes, the bounds and
/// the reply texts they share; a dialect turns its reader's events into `FrontEndInput`, decides what each
/// command asks for (`FrontEndVerdict`) and writes lines in its protocol's form.
protocol FrontEndDialect: Sendable {
    associatedtype Command: Sendable
    associatedtype Reader: FrontEndReader

    /// The protocol's variants of the texts the engine writes.
    static var wording: FrontEndWording { get }

    var reader: Reader { get set }

    /// The next command, or nil if more bytes are needed.
    mutating func nextCommand() -> FrontEndInput<Command>?
    /// The next SASL response line (not yet base64-decoded), or nil if more bytes are needed.
    mutating func nextResponse() -> FrontEndInput<[UInt8]>?
    /// The tag the replies to `command` carry (IMAP), nil in untagged protocols.
    func tag(of command: Command) -> String?
    /// What the command asks for; commands the engine carries out (STARTTLS, AUTHENTICATE) are only parsed.
    mutating func handle(_ command: Command, options: FrontEndOptions) -> FrontEndVerdict

    func greeting(options: FrontEndOptions) -> [UInt8]
    /// Sent when a STARTTLS handshake finished (ManageSieve: the capabilities again).
    func afterTLS(options: FrontEndOptions) -> [UInt8]
    /// STARTTLS was accepted: forget what the client said in plaintext (IMAP `ID` fields, a POP3 `USER`), which
    /// anyone on the path could have written.
    mutating func discardPlaintextState()

    /// A status reply: IMAP `tag OK [code] text`, POP3 `+OK`/`-ERR [code] text`, ManageSieve `OK (code) "text"`.
    static func reply(_ status: FrontEndStatus, tag: String?, code: String?, _ text: String) -> [UInt8]
    /// A backend's final response as the client sees it (IMAP puts the client's tag before it).
    static func tagged(_ tag: String?, _ text: String) -> [UInt8]
    /// The words before a close: IMAP `* BYE text`, POP3 `-ERR text`, ManageSieve `BYE "text"`.
    static func farewell(_ text: String) -> [UInt8]
    /// A SASL server challenge.
    static func challenge(_ data: [UInt8]) -> [UInt8]
}

extension FrontEndDialect {
    func tag(of command: Command) -> String? { nil }
    func afterTLS(options: FrontEndOptions) -> [UInt8] { [] }
    mutating func discardPlaintextState() {}
    static func tagged(_ tag: String?, _ text: String) -> [UInt8] { replyLine(text) }
    static func challenge(_ data: [UInt8]) -> [UInt8] { replyLine("+", SASL.base64Encode(data)) }
}

/// The parts that are present (not nil), separated by spaces, as one CRLF-terminated line.
func replyLine(_ parts: String?...) -> [UInt8] {
    Array((parts.compactMap { $0 }.joined(separator: " ") + "\r\n").utf8)
}

/// A client byte stream splitter the engine drives: bytes in, bounded commands out.
protocol FrontEndReader: Sendable {
    mutating func append(_ bytes: [UInt8])
    /// Removes and returns everything buffered (dropped after STARTTLS, forwarded after a login).
    mutating func takeBuffered() -> [UInt8]
    /// Bytes dropped so far in the current overlong line.
    var discardedBytes: Int { get }
}

/// The status a reply starts with; POP3 writes `.no` and `.bad` alike (`-ERR`), ManageSieve too (`NO`).
enum FrontEndStatus: Sendable {
    case ok
    case no
    case bad
}
