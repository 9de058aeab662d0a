import Prometheus

/// The two `postern_relayed_bytes_total` counters, which the relays add to on every read (one atomic add
/// each), so a long session shows its traffic while it runs.
struct RelayedBytes: Sendable {
    static let clientToBackendLabel = "client_to_backend"
    static let backendToClientLabel = "backend_to_client"

    let clientToBackend: Counter
    let backendToClient: Counter
}
