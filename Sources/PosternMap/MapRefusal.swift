/// A route the map would have given but refused, with why: for the server's log and counters.
public struct MapRefusal: Sendable, Equatable, CustomStringConvertible {
    /// Why the route was refused.
    public enum Reason: Sendable, Equatable {
        /// A regex rule matched, but the text it would paste into its value is unsafe; the rule is skipped.
        /// `group` is the `$N` digit, or nil for the text before an unanchored match.
        case unsafeSubstitution(line: Int, group: Int?, problem: MapSubstitutionProblem)
        /// The route names a backend outside `map.allowed_backends`.
        case backendNotAllowed(BackendAddress)
    }

    /// Which source or rule: `popmap.re` for a regex file, the route's reason for an allow-list refusal.
    public var source: String
    public var reason: Reason

    public init(source: String, reason: Reason) {
        self.source = source
        self.reason = reason
    }

    public var description: String {
        switch reason {
        case .unsafeSubstitution(let line, let group, let problem):
            let part = group.map { "$\($0)" } ?? "the text before the match"
            return "\(source):\(line): rule skipped, \(part) is unsafe: \(problem)"
        case .backendNotAllowed(let backend):
            return "route from \(source) refused: \(backend) is not in map.allowed_backends"
        }
    }
}

/// Where maps report refused routes; the server wires it to its log (and a counter per reason).
public struct MapRefusalSink: Sendable {
    public var report: @Sendable (MapRefusal) -> Void
    public init(report: @escaping @Sendable (MapRefusal) -> Void) {
        self.report = report
    }
    /// Drops everything.
    public static let none = MapRefusalSink { _ in }
}
