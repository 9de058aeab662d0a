/// A fixed-capacity ring for the status page's history: appending to a full ring drops the oldest element.
struct StatusRing<Element: Sendable>: Sendable {
    let capacity: Int
    private var storage: [Element] = []
    /// Where the next element goes once the ring is full (the oldest one's index).
    private var head = 0

    /// A ring of at least one element.
    init(capacity: Int) {
        self.capacity = max(1, capacity)
        storage.reserveCapacity(self.capacity)
    }

    mutating func append(_ element: Element) {
        if storage.count < capacity {
            storage.append(element)
        } else {
            storage[head] = element
            head = (head + 1) % capacity
        }
    }

    /// Every element, oldest first.
    var elements: [Element] {
        Array(storage[head...] + storage[..<head])
    }

    var count: Int { storage.count }

    /// The newest element.
    var last: Element? {
        guard !storage.isEmpty else { return nil }
        return storage[(head + storage.count - 1) % storage.count]
    }
}

extension StatusRing: Equatable where Element: Equatable {}
