/// The error a ``MapDirector`` throws when the route it found names a backend outside `map.allowed_backends`.
public struct RouteRefused: Error, Sendable, Equatable, CustomStringConvertible {
    public var refusal: MapRefusal
    public init(_ refusal: MapRefusal) {
        self.refusal = refusal
    }
    public var description: String { refusal.description }
}
