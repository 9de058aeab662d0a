/// One field-value pair of an IMAP `ID` command (RFC 2971); a nil value is `NIL`.
public struct IDParameter: Sendable, Equatable {
    public var name: String
    public var value: String?

    public init(_ name: String, _ value: String?) {
        self.name = name
        self.value = value
    }
}
