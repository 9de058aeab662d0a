@testable import PosternProtocol

/// What the tests that run on every front end need to know about one protocol, on `frontEndOptions()`.
struct FrontEndCase: Sendable {
    let name: String
    let make: @Sendable (FrontEndOptions) -> any FrontEndMachine
    /// The cheapest command that gets a reply, and the reply.
    let cheap: String
    let cheapReply: String
    let logout: String
    let logoutReply: String
    let startTLS: String
    let startTLSReply: String
    /// A command that starts a login at once (PLAIN for tim).
    let login: String
    /// An unknown command and its refusal.
    let unknown: String
    let unknownReply: String
    /// The refusal of a line of `x` too long to read.
    let lineTooLong: String
    /// The protocol's farewell before a close, for a reason with its period.
    let farewell: @Sendable (String) -> String
    /// The farewell for a line dropped over 2 × maxLine.
    let lineFarewell: String
    /// A command the tlsRequiredForLogin listener refuses until TLS, and the refusal.
    let loginBeforeTLS: String
    let loginBeforeTLSReply: String

    /// A machine past its greeting.
    func machine(_ options: FrontEndOptions = frontEndOptions()) -> any FrontEndMachine {
        var machine = make(options)
        _ = machine.greeting()
        return machine
    }

    static let timPlain = "AHRpbQB0YW5zdGFhZnRhbnN0YWFm"

    static let imap = FrontEndCase(
        name: "IMAP", make: { IMAPFrontEnd(options: $0) }, cheap: "a NOOP\r\n", cheapReply: "a OK NOOP completed.\r\n",
        logout: "z LOGOUT\r\n", logoutReply: "* BYE Logging out.\r\nz OK LOGOUT completed.\r\n",
        startTLS: "s STARTTLS\r\n", startTLSReply: "s OK Begin TLS negotiation now.\r\n",
        login: "l AUTHENTICATE PLAIN \(timPlain)\r\n", unknown: "u FOO\r\n",
        unknownReply: "u BAD Unknown command or not valid before login.\r\n",
        lineTooLong: "* BAD Command line too long.\r\n", farewell: { "* BYE \($0)\r\n" },
        lineFarewell: "* BYE Command line too long.\r\n", loginBeforeTLS: "l LOGIN alice secret\r\n",
        loginBeforeTLSReply: "l NO [PRIVACYREQUIRED] Plaintext login is disabled; use STARTTLS first.\r\n")

    static let pop3 = FrontEndCase(
        name: "POP3", make: { POP3FrontEnd(options: $0) }, cheap: "CAPA\r\n",
        cheapReply: "+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n"
            + "USER\r\nSASL PLAIN LOGIN\r\nSTLS\r\nIMPLEMENTATION Postern\r\n.\r\n",
        logout: "QUIT\r\n", logoutReply: "+OK Logging out.\r\n", startTLS: "STLS\r\n",
        startTLSReply: "+OK Begin TLS negotiation now.\r\n", login: "AUTH PLAIN \(timPlain)\r\n", unknown: "XYZZY\r\n",
        unknownReply: "-ERR Unknown command or not valid before login.\r\n", lineTooLong: "-ERR Line too long.\r\n",
        farewell: { "-ERR \($0)\r\n" }, lineFarewell: "-ERR Line too long.\r\n", loginBeforeTLS: "USER alice\r\n",
        loginBeforeTLSReply: "-ERR [AUTH] Plaintext login is disabled; use STLS first.\r\n")

    static let sieve = FrontEndCase(
        name: "ManageSieve", make: { SieveFrontEnd(options: $0) }, cheap: "NOOP\r\n",
        cheapReply: "OK \"NOOP completed.\"\r\n", logout: "LOGOUT\r\n", logoutReply: "OK \"Logout completed.\"\r\n",
        startTLS: "STARTTLS\r\n", startTLSReply: "OK \"Begin TLS negotiation now.\"\r\n",
        login: "AUTHENTICATE \"PLAIN\" \"\(timPlain)\"\r\n", unknown: "LISTSCRIPTS\r\n",
        unknownReply: "NO \"Unknown command or not valid before login.\"\r\n", lineTooLong: "NO \"Line too long.\"\r\n",
        farewell: { "BYE \"\($0)\"\r\n" }, lineFarewell: "BYE \"Line too long.\"\r\n",
        loginBeforeTLS: "AUTHENTICATE \"PLAIN\" \"\(timPlain)\"\r\n",
        loginBeforeTLSReply: "NO (ENCRYPT-NEEDED) \"Authentication is disabled; use STARTTLS first.\"\r\n")

    static let all = [imap, pop3, sieve]
}

extension FrontEndMachine {
    /// Feeds a text from the client.
    mutating func receive(text: String) -> [FrontEndAction] { receive(bytes(text)) }
}
