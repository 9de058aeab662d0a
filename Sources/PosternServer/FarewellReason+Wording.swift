import PosternProtocol

/// What each server-side ending says and how it is logged.
extension FarewellReason {
    /// The session's outcome (its log value and metric label).
    var outcome: SessionOutcome {
        switch self {
        case .shutdown: return .shutdown
        case .kicked: return .kicked
        case .listenerRemoved: return .listenerRemoved
        }
    }

    /// The farewell's text, with its period (POP3 puts the reason after `Disconnected:`, as its other
    /// farewells do).
    func text(for dialect: MailDialect) -> String {
        let pop3 = dialect == .pop3
        switch self {
        case .shutdown: return pop3 ? "Disconnected: server shutting down." : "Server shutting down."
        case .kicked: return pop3 ? "Disconnected: kicked by an administrator." : "Disconnected by an administrator."
        case .listenerRemoved:
            return pop3 ? "Disconnected: this address no longer serves." : "This address no longer serves, reconnect."
        }
    }

    /// The whole farewell line in the protocol's form.
    func message(for dialect: MailDialect) -> [UInt8] {
        dialect.farewell(text(for: dialect))
    }
}
