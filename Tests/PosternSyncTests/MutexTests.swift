import Dispatch
import PosternSync
import XCTest

/// `PosternSync.Mutex`: the value behind the lock, mutual exclusion under contention, errors passed through.
final class MutexTests: XCTestCase {
    func testWithLockReadsAndWritesTheValue() {
        let mutex = Mutex([1, 2])
        mutex.withLock { $0.append(3) }
        XCTAssertEqual(mutex.withLock { $0 }, [1, 2, 3])
    }

    func testContendedIncrementsAreNotLost() {
        let mutex = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<10_000 { mutex.withLock { $0 += 1 } }
        }
        XCTAssertEqual(mutex.withLock { $0 }, 80_000)
    }

    private struct Refused: Error {}

    func testAThrownErrorLeavesTheLockFree() {
        let mutex = Mutex(0)
        XCTAssertThrowsError(
            try mutex.withLock { (value: inout Int) throws(Refused) -> Void in
                value = 5
                throw Refused()
            })
        XCTAssertEqual(mutex.withLock { $0 }, 5, "the lock was released and the change kept")
    }
}
