/// Counters of the abuse guards.
extension Stats {
    /// A connection or a login refused by a limit; `reason` is the config key (`max_connections`,
    /// `max_connections_per_ip`, `max_preauth_per_ip`, `max_sessions_per_user`).
    func connectionRefused(listener: String, reason: String) {
        mapMetrics.count("postern_connections_refused_total", [("listener", listener), ("reason", reason)])
    }

    /// A login that waited for the throttle's delay before it was routed.
    func loginDelayed(listener: String) {
        mapMetrics.count("postern_logins_delayed_total", [("listener", listener)])
    }
}
