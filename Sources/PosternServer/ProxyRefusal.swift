/// Why a connection to a listener with `proxy_protocol` was refused before its login dialogue: the `reason`
/// label of `postern_proxy_refused_total` (documented in docs/operations.md).
enum ProxyRefusal: String, Sendable, Equatable, CaseIterable {
    /// The connection came from an address outside `proxy_protocol.accept_from`.
    case untrusted = "untrusted-source"
    /// A trusted sender's first bytes are not an acceptable PROXY header.
    case invalid = "invalid-header"
    /// A trusted sender did not complete its header within `ProxyHeaderReader.timeout`.
    case timeout = "header-timeout"
}
