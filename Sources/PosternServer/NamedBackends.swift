import PosternConfig
import PosternMap

/// The backends the configuration names: `backends:` entries, `map.default` servers and the servers of map
/// files (all written by the operator). Only these appear by name in metric labels; a backend from a regex
/// substitution or the directory is counted as `other`. An entry without a port stands for every port.
struct NamedBackends: Sendable {
    private let anyPort: Set<String>
    private let exact: Set<String>

    init(config: PosternConfig, fileServers: Set<BackendAddress>) {
        var named: [(String, Int?)] = config.backends.map { ($0.host, $0.port) }
        named += config.map.defaultServers.compactMap(BackendAddress.parse).map { ($0.host, $0.port) }
        named += fileServers.map { ($0.host, $0.port) }
        anyPort = Set(named.filter { $0.1 == nil }.map { $0.0.lowercased() })
        exact = Set(named.compactMap { host, port in port.map { "\(host.lowercased()):\($0)" } })
    }

    func contains(_ backend: BackendAddress) -> Bool {
        let host = backend.host.lowercased()
        if anyPort.contains(host) { return true }
        guard let port = backend.port else { return false }
        return exact.contains("\(host):\(port)")
    }
}
