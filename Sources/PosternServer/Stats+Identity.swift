/// Counters of the client-identity checks (PROXY protocol in front of listeners).
extension Stats {
    /// A connection refused before its login dialogue on a listener with `proxy_protocol`.
    func proxyRefused(listener: String, reason: ProxyRefusal) {
        mapMetrics.count("postern_proxy_refused_total", [("listener", listener), ("reason", reason.rawValue)])
    }
}
