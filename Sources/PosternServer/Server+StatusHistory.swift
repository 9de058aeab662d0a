import Foundation

/// The status page's history: sampled every `StatusHistory.interval` seconds from the counters the server
/// keeps anyway (the open sessions, the login tally), never per event.
extension Server {
    func startStatusHistory() {
        let stats = self.stats
        statusHistory.start {
            StatusSample(
                at: Date().timeIntervalSince1970, sessions: stats.activeSessions, logins: stats.loginTally.snapshot())
        }
    }
}
