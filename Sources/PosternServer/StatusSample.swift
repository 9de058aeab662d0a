/// One point of the status page's history: when, how many sessions were open, and each listener's login
/// totals then (rates come from the difference between two samples).
struct StatusSample: Sendable, Equatable {
    /// Unix seconds.
    let at: Double
    let sessions: Int
    let logins: [String: LoginCounts]
}
