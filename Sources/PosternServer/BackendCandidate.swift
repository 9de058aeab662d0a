import PosternConfig
import PosternMap

/// One server of a route as the dialler tries it: where it is, its `host:port` label (for the circuit
/// breaker and the log), and the TLS policy and mode that apply to it.
struct BackendCandidate {
    let host: String
    let port: Int
    let label: String
    let policy: BackendPolicy
    let mode: BackendTLSMode

    init(_ server: BackendAddress, listener: ListenerConfig, tls: TLSPolicies) {
        host = server.host
        port = server.port ?? listener.backend.port
        label = BackendAddress(host: host, port: port).description
        policy = tls.backend(host: host, port: port)
        mode = policy.mode ?? listener.backend.tls
    }

    /// The name sent by SNI and checked in the certificate.
    var serverName: String { policy.serverName ?? host }
}
