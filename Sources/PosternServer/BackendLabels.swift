import PosternConfig
import PosternMap

/// The bounded set of `backend` label values: the backends the configuration names (`map.default`,
/// `backends:` entries, the servers of the map files), each as `host:port`; any other backend (from the
/// directory, a regex rule) is counted as `other`, so a map cannot make the metrics grow without bound.
struct BackendLabels: Sendable, Equatable {
    /// The label of every backend the configuration does not name.
    static let other = "other"
    /// At most this many named backends get their own label; the rest are `other`.
    static let limit = 1000

    /// The labels, lowercased, in a stable order (first named first).
    let labels: [String]
    private let known: Set<String>

    /// The named backends of `config`, with the servers the map files list. A server without a port counts
    /// once for every listener's backend port.
    init(config: PosternConfig, listed: Set<BackendAddress> = []) {
        let ports = Array(Set(config.listeners.map(\.backend.port))).sorted()
        var ordered: [String] = []
        var seen = Set<String>()
        func add(host: String, port: Int?) {
            for port in port.map({ [$0] }) ?? ports {
                let label = BackendAddress(host: host.lowercased(), port: port).description
                guard ordered.count < BackendLabels.limit, seen.insert(label).inserted else { continue }
                ordered.append(label)
            }
        }
        for text in config.map.defaultServers {
            if let address = BackendAddress.parse(text) { add(host: address.host, port: address.port) }
        }
        for entry in config.backends { add(host: entry.host, port: entry.port) }
        let files = listed.sorted { $0.description < $1.description }
        for address in files { add(host: address.host, port: address.port) }
        labels = ordered
        known = seen
    }

    /// The label to count `backend` (`host:port`, as the dialler names it) under.
    func label(for backend: String) -> String {
        if known.contains(backend) { return backend }
        let folded = backend.lowercased()
        return known.contains(folded) ? folded : BackendLabels.other
    }
}
