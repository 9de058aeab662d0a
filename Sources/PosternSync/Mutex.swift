@_exported import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A value behind a pthread mutex: the same `withLock` as the standard library's `Mutex`, which it
/// shadows for every module that imports `PosternSync`, but a lock ThreadSanitizer can see.
///
/// On Linux `Synchronization.Mutex` hands a contended lock over inside the kernel (`FUTEX_LOCK_PI`) with
/// no annotation, so ThreadSanitizer sees no happens-before edge between two holders and reports every
/// access inside `withLock` as a race (checked with Swift 6.3.1; docs/hardening.md, "Sanitizers"). TSan
/// intercepts `pthread_mutex_lock`/`unlock`, so with this lock its reports are about our code.
public final class Mutex<Value: ~Copyable>: @unchecked Sendable {
    private let lock: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    public init(_ initialValue: consuming sending Value) {
        lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        lock.initialize(to: pthread_mutex_t())
        let rc = pthread_mutex_init(lock, nil)
        precondition(rc == 0, "pthread_mutex_init failed: \(rc)")
        value = initialValue
    }

    deinit {
        pthread_mutex_destroy(lock)
        lock.deallocate()
    }

    /// Runs `body` with the value while holding the lock (not reentrant: calling it again from `body`
    /// deadlocks, as the standard library's does).
    public func withLock<Result: ~Copyable, E: Error>(
        _ body: (inout sending Value) throws(E) -> sending Result
    ) throws(E) -> sending Result {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        return try body(&value)
    }
}
