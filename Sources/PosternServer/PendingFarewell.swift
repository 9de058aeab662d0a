/// A farewell the relay owes its client: written at the next boundary between two of the server's
/// responses, or not at all when none comes before `deadline` (the session is closed without one).
struct PendingFarewell: Equatable {
    /// The protocol's farewell line.
    let message: [UInt8]
    let outcome: SessionOutcome
    /// Session clock: the last moment to wait for a boundary.
    let deadline: UInt64
}
