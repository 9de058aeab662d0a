import PosternMap

/// Bounded metric labels for backends: names from the map or the directory cannot add series without end.
extension Runtime {
    /// The label every backend outside the configuration is counted under.
    static let otherBackendLabel = "other"

    /// The `backend` label of a metric for the backend `label` (`host:port`): the label itself when the
    /// configuration names that backend (a `backends:` entry, or a `map.default` server; without a port there,
    /// any port of the host), `other` for every other backend. The log lines keep the real name.
    func backendMetricLabel(_ label: String) -> String {
        guard let backend = BackendAddress.parse(label) else { return Runtime.otherBackendLabel }
        let host = backend.host.lowercased()
        let matches: (String, Int?) -> Bool = { name, port in
            name.lowercased() == host && (port == nil || port == backend.port)
        }
        if config.backends.contains(where: { matches($0.host, $0.port) }) { return label }
        let defaults = config.map.defaultServers.compactMap { BackendAddress.parse($0) }
        if defaults.contains(where: { matches($0.host, $0.port) }) { return label }
        return Runtime.otherBackendLabel
    }
}
