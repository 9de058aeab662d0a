import Dispatch
import Glibc
import PosternSync
import XCTest

@testable import PosternIO

/// `EventShard.soon`: during an epoll wake the work runs at the end of that wake, after the event handler
/// returned and on the same thread (for an `epollThread` shard, the waiter thread); outside a wake, and on a
/// `dispatchSources` shard, it runs as a later block on the queue, never inside its caller.
final class EventShardSoonTests: XCTestCase {
    /// Calls `soon` from each delivery and records when and where the deferred work ran.
    private final class Deferring: ConnectionDelegate, @unchecked Sendable {
        struct Run: Equatable {
            var thread: UInt
            var callbackThread: UInt
            var afterCallback: Bool
        }
        let shard: EventShard
        let runs = Mutex<[Run]>([])
        private var inCallback = false
        init(shard: EventShard) { self.shard = shard }
        func connection(_ connection: any Connection, received bytes: UnsafeRawBufferPointer) {
            let callbackThread = UInt(pthread_self())
            inCallback = true
            shard.soon { [self] in
                let run = Run(thread: UInt(pthread_self()), callbackThread: callbackThread, afterCallback: !inCallback)
                runs.withLock { $0.append(run) }
            }
            inCallback = false
        }
        func connectionConnected(_ connection: any Connection) {}
        func connectionReachedEOF(_ connection: any Connection) {}
        func connection(_ connection: any Connection, failed error: IOError) {}
        func connectionDrained(_ connection: any Connection) {}
        func connectionTLSEstablished(_ connection: any Connection) {}
    }

    override func setUp() {
        XCTAssertTrue(IOFixture.warmedUp)
    }

    private func deliverThree(kind: EventLoopKind, index: Int) -> [Deferring.Run] {
        let shard = IOFixture.shard(index: index, readBufferSize: 4096, kind: kind)
        let (fd, peer) = IOFixture.socketPair()
        let delegate = Deferring(shard: shard)
        let endpoint = Endpoint(fd: fd, shard: shard)
        endpoint.delegate = delegate
        shard.queue.sync { endpoint.start() }
        for round in 0..<3 {
            IOFixture.send(peer, "r\(round)\r\n")
            XCTAssertTrue(eventually { delegate.runs.withLock { $0.count } == round + 1 })
        }
        shard.queue.sync { endpoint.close() }
        Glibc.close(peer)
        return delegate.runs.withLock { $0 }
    }

    func testDuringAWakeTheWorkRunsAtItsEndOnTheSameThread() {
        for kind in [EventLoopKind.epollThread, .dispatchEpoll] {
            let runs = deliverThree(kind: kind, index: 50)
            XCTAssertEqual(runs.count, 3, "\(kind)")
            for run in runs {
                XCTAssertTrue(run.afterCallback, "\(kind): after the handler returned")
                XCTAssertEqual(run.thread, run.callbackThread, "\(kind): in the same wake, on the same thread")
            }
        }
    }

    func testOnADispatchSourcesShardTheWorkRunsLaterOnTheQueue() {
        let runs = deliverThree(kind: .dispatchSources, index: 51)
        XCTAssertEqual(runs.count, 3)
        XCTAssertTrue(runs.allSatisfy(\.afterCallback))
    }

    func testOutsideAWakeTheWorkIsALaterBlock() {
        for kind in EventLoopKind.allCases {
            let shard = IOFixture.shard(index: 52, readBufferSize: 4096, kind: kind)
            let ran = Mutex(false)
            let ranInside: Bool = shard.queue.sync {
                shard.soon { ran.withLock { $0 = true } }
                return ran.withLock { $0 }
            }
            XCTAssertFalse(ranInside, "\(kind): not inside the caller")
            XCTAssertTrue(eventually { ran.withLock { $0 } }, "\(kind)")
        }
    }

    func testWorkDeferredByDeferredWorkRunsInTheSameWake() {
        let shard = IOFixture.shard(index: 53, readBufferSize: 4096, kind: .epollThread)
        let (fd, peer) = IOFixture.socketPair()
        final class Chain: ConnectionDelegate, @unchecked Sendable {
            let shard: EventShard
            let threads = Mutex<[UInt]>([])
            init(shard: EventShard) { self.shard = shard }
            func connection(_ connection: any Connection, received bytes: UnsafeRawBufferPointer) {
                shard.soon { [self] in step(5) }
            }
            func step(_ left: Int) {
                threads.withLock { $0.append(UInt(pthread_self())) }
                if left > 0 { shard.soon { [self] in step(left - 1) } }
            }
            func connectionConnected(_ connection: any Connection) {}
            func connectionReachedEOF(_ connection: any Connection) {}
            func connection(_ connection: any Connection, failed error: IOError) {}
            func connectionDrained(_ connection: any Connection) {}
            func connectionTLSEstablished(_ connection: any Connection) {}
        }
        let delegate = Chain(shard: shard)
        let endpoint = Endpoint(fd: fd, shard: shard)
        endpoint.delegate = delegate
        shard.queue.sync { endpoint.start() }
        IOFixture.send(peer, "go\r\n")
        XCTAssertTrue(eventually { delegate.threads.withLock { $0.count } == 6 })
        let threads = delegate.threads.withLock { $0 }
        XCTAssertEqual(Set(threads).count, 1, "six steps, one wake on one thread")
        XCTAssertEqual(threads.first, shard.poller?.waiterThread)
        shard.queue.sync { endpoint.close() }
        Glibc.close(peer)
    }
}
