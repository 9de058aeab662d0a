import PosternIO

/// What a reload does to the bound listeners, worked out before anything changes: bindings whose address is
/// still listed are kept (under the name that lists it now, so a rename moves nothing), addresses not bound
/// yet are bound, and bindings whose address is gone are closed and their sessions drained.
struct ListenerPlan: Equatable {
    /// One address of the new configuration.
    struct Wanted: Equatable {
        let name: String
        let address: SocketAddress
    }

    /// Binding id to the name it serves from now on.
    var kept: [Int: String] = [:]
    /// Addresses to bind, with the listener each serves.
    var toBind: [Wanted] = []
    /// Ids of bindings whose address the configuration no longer lists.
    var removed: [Int] = []

    /// Matches `wanted` (in the configuration's order) against the current bindings (id and requested address).
    init(current: [(id: Int, address: SocketAddress)], wanted: [Wanted]) {
        var unmatched = current
        for entry in wanted {
            if let index = unmatched.firstIndex(where: { $0.address == entry.address }) {
                kept[unmatched[index].id] = entry.name
                unmatched.remove(at: index)
            } else {
                toBind.append(entry)
            }
        }
        removed = unmatched.map(\.id)
    }

    /// Nothing is bound or closed (names may change).
    var keepsEverySocket: Bool { toBind.isEmpty && removed.isEmpty }
}
