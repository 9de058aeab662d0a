import PosternMap

/// Bounded metric labels for backends: names from a regex substitution or the directory cannot add series
/// without end.
extension Runtime {
    /// The label every backend outside the configuration is counted under.
    static let otherBackendLabel = "other"

    /// The `backend` label of a metric for the backend `label` (`host:port`): the label itself when the
    /// configuration names that backend (see `NamedBackends`), `other` for every other backend. The log lines
    /// keep the real name.
    func backendMetricLabel(_ label: String) -> String {
        guard let backend = BackendAddress.parse(label), namedBackends.contains(backend) else {
            return Runtime.otherBackendLabel
        }
        return label
    }
}
