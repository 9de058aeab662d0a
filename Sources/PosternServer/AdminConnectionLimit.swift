import PosternSync

/// The cap on admin connections served at once: the accept handler enters, each connection's end leaves.
final class AdminConnectionLimit: Sendable {
    let limit: Int
    private let count = Atomic<Int>(0)

    init(limit: Int) { self.limit = limit }

    /// Takes a place; false (and nothing taken) when all `limit` are in use.
    func enter() -> Bool {
        while true {
            let current = count.load(ordering: .relaxed)
            guard current < limit else { return false }
            if count.compareExchange(expected: current, desired: current + 1, ordering: .relaxed).exchanged {
                return true
            }
        }
    }

    func leave() { count.subtract(1, ordering: .relaxed) }

    /// Places in use.
    var current: Int { count.load(ordering: .relaxed) }
}
