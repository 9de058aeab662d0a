/// Which mail protocol a relayed stream speaks, for what the proxy says in it on its own after the login:
/// the farewell, and how `ResponseBoundaryTracker` reads the server's responses.
public enum MailDialect: String, Sendable, Equatable, CaseIterable {
    case imap, pop3, managesieve

    /// The protocol's last word before the server closes: IMAP `* BYE text`, POP3 `-ERR text`, ManageSieve
    /// `BYE "text"`. `text` ends with its period.
    public func farewell(_ text: String) -> [UInt8] {
        switch self {
        case .imap: return IMAPFrontEnd.Dialect.farewell(text)
        case .pop3: return POP3FrontEnd.Dialect.farewell(text)
        case .managesieve: return SieveFrontEnd.Dialect.farewell(text)
        }
    }
}
