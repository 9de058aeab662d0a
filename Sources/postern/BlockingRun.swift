import Dispatch
import PosternSync

/// Runs async work from a synchronous command and waits for it. The `postern` command is synchronous on
/// purpose: with an async `main`, libdispatch parks the main thread inside `pthread_exit` (`dispatch_main`),
/// where glibc's process-wide `setuid` does not reach it, so after the privilege drop one thread would keep
/// running as root. With a synchronous `main` the main thread itself drops privileges and then waits.
enum BlockingRun {
    static func wait<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
        let result = Mutex<Result<T, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            let outcome: Result<T, any Error>
            do {
                outcome = .success(try await body())
            } catch {
                outcome = .failure(error)
            }
            result.withLock { $0 = outcome }
            done.signal()
        }
        done.wait()
        return try result.withLock { $0! }.get()
    }
}
