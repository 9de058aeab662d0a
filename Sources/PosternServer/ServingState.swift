import PosternConfig

/// What a new connection is accepted under, swapped at once by a reload: the runtime in service and, for
/// each bound listener, the `listeners:` entry it serves in that runtime's configuration.
struct ServingState: Sendable {
    var runtime: Runtime
    /// Binding id to its listener's configuration.
    var listeners: [Int: ListenerConfig]
}
