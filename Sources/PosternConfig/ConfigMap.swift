/// The `map:` block.
public struct MapConfig: Sendable, Equatable {
    /// The `user host[:port]` map file, if any.
    public var file: String? = nil
    /// The server used for users the map does not know, as written (`host` or `host:port`).
    public var defaultServer: String? = nil
    public init() {}
}
