import PosternConfig
import PosternSync

/// The `SessionShared` of each listener of one runtime, made on the first connection and handed to every
/// later one while the listener's configuration, the stats, the guards, the backend registry and the metric
/// table stay the same (a different one replaces the entry). Entries are weak: the sessions keep their
/// `SessionShared`, which keeps the runtime, and the runtime keeps this table, so a strong entry would keep
/// a replaced runtime alive. Thread-safe: listeners accept on their own queues.
final class SessionSharing: Sendable {
    private struct Entry {
        weak var shared: SessionShared?
    }

    private let entries = Mutex<[String: Entry]>([:])

    /// The live entry for `listener`, or the one `make` builds (and that is kept) when there is none or it
    /// was made for other values.
    func shared(
        listener: ListenerConfig, stats: Stats, guards: SessionGuards, backends: BackendRegistry?,
        metrics: MetricTable, make: () -> SessionShared
    ) -> SessionShared {
        entries.withLock { entries in
            if let entry = entries[listener.name]?.shared,
                entry.serves(listener: listener, stats: stats, guards: guards, backends: backends, metrics: metrics)
            {
                return entry
            }
            let entry = make()
            entries[listener.name] = Entry(shared: entry)
            return entry
        }
    }
}
