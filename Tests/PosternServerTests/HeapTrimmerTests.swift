import PosternSync
import XCTest

@testable import PosternServer

/// The heap is trimmed once per burst of TLS handshakes: on the first tick that saw no new handshake since
/// the tick before, and not again until more handshakes came.
final class HeapTrimmerTests: XCTestCase {
    func testTrimsOncePerBurstWhenItIsOver() {
        let trims = Mutex(0)
        let trimmer = HeapTrimmer { trims.withLock { $0 += 1 } }
        trimmer.tick(now: 1)
        XCTAssertEqual(trims.withLock { $0 }, 0, "no handshake yet")
        for _ in 0..<3 { trimmer.noteHandshake() }
        trimmer.tick(now: 2)
        XCTAssertEqual(trims.withLock { $0 }, 0, "handshakes came since the last tick: the burst goes on")
        trimmer.noteHandshake()
        trimmer.tick(now: 3)
        XCTAssertEqual(trims.withLock { $0 }, 0, "still going on")
        trimmer.tick(now: 4)
        XCTAssertEqual(trims.withLock { $0 }, 1, "a quiet tick after the burst")
        trimmer.tick(now: 5)
        trimmer.tick(now: 6)
        XCTAssertEqual(trims.withLock { $0 }, 1, "nothing new since")
        trimmer.noteHandshake()
        trimmer.tick(now: 7)
        trimmer.tick(now: 8)
        XCTAssertEqual(trims.withLock { $0 }, 2, "the next burst")
    }
}
