/// Why the server ends a session on its own: each gets the protocol's farewell (IMAP `* BYE`, POP3 `-ERR`,
/// ManageSieve `BYE`) and its own outcome in the log.
enum FarewellReason: String, Sendable, Equatable {
    /// The server stops (SIGTERM/SIGINT), after the drain.
    case shutdown
    /// An operator kicked the session through the admin API.
    case kicked
    /// Its listener was removed by a reload.
    case listenerRemoved = "listener-removed"
}
