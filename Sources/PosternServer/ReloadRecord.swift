import Foundation

/// The outcome of one configuration load (the one at start, then each reload): what `/readyz`, the metrics,
/// the reload log line and the status file next to the pid file report.
public struct ReloadRecord: Sendable, Equatable {
    /// The generation in service after this attempt: the new one when it succeeded, the old one when refused.
    public var generation: Int
    /// When the attempt finished (wall clock).
    public var at: Date
    public var succeeded: Bool
    /// Why it was refused (each config issue, or the part that could not be put into service); empty on success.
    public var errors: [String]
    /// Counts every attempt since the process started (the start is 0), so a refusal is told from the last one.
    public var attempt: Int

    public init(generation: Int, at: Date, succeeded: Bool, errors: [String], attempt: Int = 0) {
        self.generation = generation
        self.at = at
        self.succeeded = succeeded
        self.errors = errors
        self.attempt = attempt
    }
}
