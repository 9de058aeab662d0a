import Foundation

/// The outcome of one configuration load: what `/readyz` and the metrics report about the last reload.
///
/// Placeholder until the lifecycle work lands its own (same names): nothing records reloads here yet.
public struct ReloadRecord: Sendable, Equatable {
    /// The generation in service after this attempt.
    public var generation: Int
    /// When the attempt finished (wall clock).
    public var at: Date
    public var succeeded: Bool
    /// Why it was refused; empty on success.
    public var errors: [String]

    public init(generation: Int, at: Date, succeeded: Bool, errors: [String]) {
        self.generation = generation
        self.at = at
        self.succeeded = succeeded
        self.errors = errors
    }
}
