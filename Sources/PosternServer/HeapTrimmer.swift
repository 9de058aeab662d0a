import Glibc
import PosternIO
import PosternSync

/// Gives the heap's free pages back to the kernel (`malloc_trim(0)`) once a burst of client TLS handshakes
/// is over. A handshake's transient buffers (records, flights, the certificate chain) are freed between the
/// long-lived objects of the sessions that stay, so after a burst the heap holds free pages that glibc only
/// returns from its top; an idle TLS session thereby cost about 1 KiB more than it holds. One instance per
/// process, ticked by the shard of the first handshake it heard of: it trims on the first tick with no new
/// handshake since the one before, once per burst.
final class HeapTrimmer: ShardTickable, Sendable {
    static let shared = HeapTrimmer { _ = HeapTrimmer.mallocTrim?(0) }

    /// glibc's `malloc_trim`, which Swift's Glibc module does not import (nil on another C library).
    private static let mallocTrim: (@convention(c) (Int) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
    }()

    private struct State {
        /// The handshake count the last tick saw.
        var seen = 0
        /// The handshake count when the heap was last trimmed.
        var trimmedAt = 0
    }

    private let handshakes = Atomic<Int>(0)
    private let registered = Atomic<Bool>(false)
    private let state = Mutex(State())
    private let trim: @Sendable () -> Void

    /// `trim` releases the free pages (tests count the calls).
    init(trim: @escaping @Sendable () -> Void) { self.trim = trim }

    /// A client's TLS handshake finished on `shard` (called on its queue): the first one registers the
    /// trimmer there.
    func handshakeFinished(on shard: EventShard) {
        noteHandshake()
        if !registered.exchange(true, ordering: .relaxed) { shard.register(self) }
    }

    func noteHandshake() { handshakes.add(1, ordering: .relaxed) }

    func tick(now: UInt64) {
        let count = handshakes.load(ordering: .relaxed)
        let due = state.withLock { state -> Bool in
            defer { state.seen = count }
            guard count == state.seen, count != state.trimmedAt else { return false }
            state.trimmedAt = count
            return true
        }
        if due { trim() }
    }
}
