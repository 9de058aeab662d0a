/// What a map can say without suspending (`UserMap.immediateLookup`): its answer, when it has it at once (a
/// file or regex map, a fresh cache entry), or that it must be asked the asynchronous way (a directory, a
/// cache miss in front of one). Sessions take the answer on their shard with no hop to another thread.
public enum ImmediateLookup: Sendable, Equatable {
    /// The route, or nil for a user the map does not know: what `lookup` would return.
    case answered(Route?)
    /// Only `lookup` can answer.
    case mustAsk
}
