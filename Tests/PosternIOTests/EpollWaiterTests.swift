import Dispatch
import Glibc
import XCTest

@testable import PosternIO

/// Shards of `EventLoopKind.epollThread`: readiness is delivered on the shard's own waiter thread (no
/// hand-off to a libdispatch worker) while the shard's queue still serialises it with everything else, a
/// busy queue delays a delivery without losing it, and a shard that goes away takes its thread's
/// descriptors (the epoll fd and the eventfd) with it.
final class EpollWaiterTests: XCTestCase {
    /// Records the thread of each delivery and checks it runs on the shard's queue.
    private final class ThreadRecorder: ConnectionDelegate, @unchecked Sendable {
        let queue: DispatchQueue
        private let lock = NSLock()
        private var _threads: [UInt] = []
        private var _bytes = 0
        private var _offQueue = 0
        init(queue: DispatchQueue) { self.queue = queue }
        var threads: [UInt] { lock.withLock { _threads } }
        var bytes: Int { lock.withLock { _bytes } }
        var offQueue: Int { lock.withLock { _offQueue } }
        func connection(_ connection: any Connection, received bytes: UnsafeRawBufferPointer) {
            let onQueue = DispatchQueue.getSpecific(key: EpollWaiterTests.key) == queue.label
            lock.withLock {
                _threads.append(UInt(pthread_self()))
                _bytes += bytes.count
                if !onQueue { _offQueue += 1 }
            }
        }
        func connectionConnected(_ connection: any Connection) {}
        func connectionReachedEOF(_ connection: any Connection) {}
        func connection(_ connection: any Connection, failed error: IOError) {}
        func connectionDrained(_ connection: any Connection) {}
        func connectionTLSEstablished(_ connection: any Connection) {}
    }

    static let key = DispatchSpecificKey<String>()

    override func setUp() {
        XCTAssertTrue(IOFixture.warmedUp)
    }

    private func shard(index: Int) -> EventShard {
        let shard = IOFixture.shard(index: index, readBufferSize: 4096, kind: .epollThread)
        shard.queue.setSpecific(key: EpollWaiterTests.key, value: shard.queue.label)
        return shard
    }

    /// An endpoint on `shard` with a recorder as its delegate, started; and the socket's other end.
    private func started(on shard: EventShard) -> (Endpoint, ThreadRecorder, Int32) {
        let (fd, peer) = IOFixture.socketPair()
        let recorder = ThreadRecorder(queue: shard.queue)
        let endpoint = Endpoint(fd: fd, shard: shard)
        endpoint.delegate = recorder
        shard.queue.sync { endpoint.start() }
        return (endpoint, recorder, peer)
    }

    func testReadinessIsDeliveredOnTheWaiterThreadAndOnTheShardQueue() throws {
        let shard = shard(index: 40)
        let (endpoint, recorder, peer) = started(on: shard)
        XCTAssertTrue(eventually { shard.poller?.waiterThread != nil })
        let waiter = try XCTUnwrap(shard.poller?.waiterThread)
        for round in 0..<5 {
            IOFixture.send(peer, "x\(round)\r\n")
            XCTAssertTrue(eventually { recorder.bytes == 4 * (round + 1) })
        }
        XCTAssertFalse(recorder.threads.isEmpty)
        XCTAssertEqual(Set(recorder.threads), [waiter], "every delivery ran on the waiter thread")
        XCTAssertEqual(recorder.offQueue, 0, "and inside the shard's queue")
        shard.queue.sync { endpoint.close() }
        Glibc.close(peer)
    }

    func testABusyQueueDelaysADeliveryWithoutLosingIt() {
        let shard = shard(index: 41)
        let (endpoint, recorder, peer) = started(on: shard)
        let busy = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        shard.queue.async {
            busy.signal()
            release.wait()
        }
        busy.wait()
        IOFixture.send(peer, "while busy\r\n")
        usleep(100_000)
        XCTAssertEqual(recorder.bytes, 0, "nothing runs beside the block that holds the queue")
        release.signal()
        XCTAssertTrue(eventually { recorder.bytes == 12 })
        shard.queue.sync { endpoint.close() }
        Glibc.close(peer)
    }

    func testAShardThatGoesAwayClosesItsWaitersDescriptors() {
        let baseline = IOFixture.fdCount()
        var shard: EventShard? = IOFixture.shard(index: 42, readBufferSize: 4096, kind: .epollThread)
        XCTAssertTrue(eventually { shard?.poller?.waiterThread != nil })
        XCTAssertEqual(IOFixture.fdCount(), baseline + 2, "the epoll fd and the waiter's eventfd")
        shard = nil
        XCTAssertNil(shard)
        XCTAssertTrue(eventually { IOFixture.fdCount() == baseline }, "both closed by the waiter as it ends")
    }
}
