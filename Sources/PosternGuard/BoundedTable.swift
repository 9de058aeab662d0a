/// A dictionary that keeps at most `capacity` entries, dropping the one least recently written.
///
/// Writes cost amortised O(1): the write order is a queue with lazy deletion, compacted when it
/// holds more than twice the live entries. Not thread-safe on its own (its owners hold a Mutex).
struct BoundedTable<Key: Hashable, Value> {
    let capacity: Int
    private var entries: [Key: (value: Value, serial: UInt64)] = [:]
    private var order: [(key: Key, serial: UInt64)] = []
    private var head = 0
    private var nextSerial: UInt64 = 0

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    var count: Int { entries.count }

    subscript(_ key: Key) -> Value? { entries[key]?.value }

    /// Stores `value` as the most recent entry, evicting the oldest ones past the capacity.
    mutating func set(_ key: Key, _ value: Value) {
        nextSerial += 1
        entries[key] = (value, nextSerial)
        order.append((key, nextSerial))
        while entries.count > capacity, head < order.count {
            let oldest = order[head]
            head += 1
            if entries[oldest.key]?.serial == oldest.serial { entries[oldest.key] = nil }
        }
        if order.count - head > 2 * max(entries.count, 16) { compact() }
    }

    mutating func remove(_ key: Key) {
        entries[key] = nil
    }

    private mutating func compact() {
        order = order[head...].filter { entries[$0.key]?.serial == $0.serial }
        head = 0
    }
}
