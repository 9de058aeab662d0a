/// What a dialect's reader found next. Reasons have no final period; the engine adds it.
enum FrontEndInput<Item: Sendable>: Sendable {
    /// A complete command or SASL response.
    case item(Item)
    /// Bytes to send before the client goes on (IMAP's continuation for a synchronizing literal).
    case send([UInt8])
    /// Malformed input, already dropped.
    case bad(tag: String?, reason: String)
    /// A line over the bound; the reader drops it to its end.
    case tooLong(tag: String?)
    /// The stream cannot be resynchronised.
    case unrecoverable(tag: String?, reason: String)
}
