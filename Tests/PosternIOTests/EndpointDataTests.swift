import Dispatch
import Glibc
import XCTest

@testable import PosternIO

/// Bytes through an endpoint over a socket pair or loopback TCP: both directions, backpressure, EOF, resets,
/// and the hard cap on queued output.
final class EndpointDataTests: XCTestCase {
    private var shard: EventShard!

    override func setUp() {
        shard = IOFixture.shard(index: 1, readBufferSize: 65536)
    }

    private func startedEndpoint() -> (Endpoint, Int32, RecordingDelegate) {
        let (fd, peer) = IOFixture.socketPair()
        let delegate = RecordingDelegate()
        let endpoint = Endpoint(fd: fd, shard: shard)
        endpoint.delegate = delegate
        shard.queue.sync { endpoint.start() }
        return (endpoint, peer, delegate)
    }

    private func tearDown(_ endpoint: Endpoint, _ peer: Int32) {
        shard.queue.sync { endpoint.close() }
        Glibc.close(peer)
    }

    func testWriteAndReadRoundTrip() {
        let (endpoint, peer, delegate) = startedEndpoint()
        defer { tearDown(endpoint, peer) }
        let greeting = Array("* OK ready\r\n".utf8)
        shard.queue.sync { endpoint.write(greeting) }
        XCTAssertEqual(IOFixture.receive(peer, count: greeting.count), greeting)
        XCTAssertEqual(shard.queue.sync { endpoint.bytesOut }, UInt64(greeting.count))

        IOFixture.send(peer, "a1 NOOP\r\n")
        XCTAssertTrue(eventually { delegate.received == Array("a1 NOOP\r\n".utf8) })
        XCTAssertEqual(shard.queue.sync { endpoint.bytesIn }, 9)
    }

    func testQueuedOutputIsWrittenWhenThePeerReads() {
        let (endpoint, peer, delegate) = startedEndpoint()
        defer { tearDown(endpoint, peer) }
        let bulk = (0..<1_000_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        shard.queue.sync { endpoint.write(bulk) }
        XCTAssertGreaterThan(shard.queue.sync { endpoint.pendingCount }, 0, "more than the socket holds")
        XCTAssertEqual(IOFixture.receive(peer, count: bulk.count), bulk)
        XCTAssertTrue(eventually { delegate.events.contains(.drained) })
        XCTAssertEqual(shard.queue.sync { endpoint.pendingCount }, 0)
    }

    func testPausedReadsDeliverBufferedBytesOnResume() {
        let (endpoint, peer, delegate) = startedEndpoint()
        defer { tearDown(endpoint, peer) }
        shard.queue.sync { endpoint.pauseReading() }
        XCTAssertTrue(shard.queue.sync { endpoint.isReadingPaused })
        IOFixture.send(peer, "a1 CAPABILITY\r\n")
        XCTAssertTrue(eventually { self.shard.queue.sync { endpoint.readSuspended } })
        XCTAssertTrue(delegate.received.isEmpty, "nothing is delivered while paused")

        shard.queue.sync { endpoint.resumeReading() }
        XCTAssertTrue(eventually { delegate.received == Array("a1 CAPABILITY\r\n".utf8) })
        XCTAssertFalse(shard.queue.sync { endpoint.isReadingPaused })
    }

    func testEOFIsDelivered() {
        let (endpoint, peer, delegate) = startedEndpoint()
        defer { tearDown(endpoint, peer) }
        IOFixture.send(peer, "last\r\n")
        shutdown(peer, Int32(SHUT_WR))
        XCTAssertTrue(eventually { delegate.events.contains(.eof) })
        XCTAssertEqual(delegate.received, Array("last\r\n".utf8), "bytes before the EOF come first")
        XCTAssertNil(delegate.failure)
        XCTAssertFalse(shard.queue.sync { endpoint.isClosed }, "EOF half-closes; the owner closes")
    }

    func testEOFWhilePausedIsDeliveredOnResume() {
        let (endpoint, peer, delegate) = startedEndpoint()
        defer { tearDown(endpoint, peer) }
        shard.queue.sync { endpoint.pauseReading() }
        IOFixture.send(peer, "x")
        Glibc.close(peer)
        XCTAssertTrue(eventually { self.shard.queue.sync { endpoint.readSuspended } })
        shard.queue.sync { endpoint.resumeReading() }
        XCTAssertTrue(eventually { delegate.events.contains(.eof) })
        XCTAssertEqual(delegate.received, [UInt8(ascii: "x")])
    }

    func testPeerResetFailsWithReset() throws {
        let (listener, address) = IOFixture.loopbackSocket(listening: true)
        defer { Glibc.close(listener) }
        let endpoint = try Connector.connect(to: address, shard: shard)
        let delegate = RecordingDelegate()
        endpoint.delegate = delegate
        shard.queue.sync { endpoint.start() }
        let accepted = try XCTUnwrap(IOFixture.accept(listener))
        XCTAssertTrue(eventually { delegate.events.contains(.connected) })

        SocketOps.setAbortiveClose(accepted)
        Glibc.close(accepted)
        XCTAssertTrue(eventually { delegate.failure != nil })
        XCTAssertEqual(delegate.failure?.kind, .reset, "\(delegate.events)")
        XCTAssertEqual(delegate.failure?.code, ECONNRESET)
        XCTAssertTrue(shard.queue.sync { endpoint.isClosed }, "a failed endpoint is closed already")
    }

    func testAPausedEndpointWhosePeerResetsIsFailedByHousekeeping() throws {
        let (listener, address) = IOFixture.loopbackSocket(listening: true)
        defer { Glibc.close(listener) }
        let endpoint = try Connector.connect(to: address, shard: shard)
        let delegate = RecordingDelegate()
        endpoint.delegate = delegate
        shard.queue.sync { endpoint.start() }
        let accepted = try XCTUnwrap(IOFixture.accept(listener))
        XCTAssertTrue(eventually { delegate.events.contains(.connected) })
        shard.queue.sync { endpoint.pauseReading() }
        IOFixture.send(accepted, "a1 NOOP\r\n")
        XCTAssertTrue(eventually { self.shard.queue.sync { endpoint.readSuspended } })

        SocketOps.setAbortiveClose(accepted)
        Glibc.close(accepted)
        // The shard's timer is not running: the test does its housekeeping pass.
        XCTAssertTrue(
            eventually {
                self.shard.queue.sync {
                    self.shard.housekeeping()
                    return endpoint.isClosed
                }
            })
        XCTAssertEqual(delegate.failure?.kind, .reset, "\(delegate.events)")
        XCTAssertEqual(delegate.failure?.code, ECONNRESET)
        XCTAssertTrue(delegate.received.isEmpty, "nothing was delivered while paused")
    }

    func testOutputOverTheCapFailsWithOutputOverflow() {
        let (endpoint, peer, delegate) = startedEndpoint()
        defer { tearDown(endpoint, peer) }
        shard.queue.sync {
            endpoint.maxQueuedBytes = 128 * 1024
            // Fill the socket until bytes queue, then fill the queue up to exactly the cap.
            let chunk = [UInt8](repeating: 0x42, count: 16384)
            for _ in 0..<1000 where endpoint.pendingCount == 0 { endpoint.write(chunk) }
            XCTAssertGreaterThan(endpoint.pendingCount, 0)
            let room = endpoint.maxQueuedBytes - endpoint.pendingCount
            endpoint.write([UInt8](repeating: 0x43, count: room))
            XCTAssertFalse(endpoint.isClosed, "exactly at the cap is allowed")
            XCTAssertEqual(endpoint.pendingCount, endpoint.maxQueuedBytes)
            XCTAssertNil(delegate.failure)

            endpoint.write([0x44])
            XCTAssertTrue(endpoint.isClosed, "one byte over the cap fails the endpoint at once")
            XCTAssertEqual(endpoint.pendingCount, 0, "the queue is dropped")
        }
        XCTAssertEqual(delegate.failure?.kind, .outputOverflow)
        XCTAssertEqual(delegate.events.last, delegate.failure.map { .failed($0) }, "failed is the last event")
    }

    func testASingleWriteOverTheCapFailsOnlyForWhatTheSocketDidNotTake() {
        let (endpoint, peer, delegate) = startedEndpoint()
        defer { tearDown(endpoint, peer) }
        shard.queue.sync {
            endpoint.maxQueuedBytes = 1024
            // The empty socket takes more than 1 KiB at once: only the rest counts.
            endpoint.write([UInt8](repeating: 0x45, count: 2048))
            XCTAssertFalse(endpoint.isClosed)
            XCTAssertEqual(endpoint.pendingCount, 0)
            endpoint.write([UInt8](repeating: 0x45, count: 4 * 1024 * 1024))
            XCTAssertTrue(endpoint.isClosed)
        }
        XCTAssertEqual(delegate.failure?.kind, .outputOverflow)
    }

    func testTheQueueBufferIsCompactedWhileThePeerReadsSlowly() {
        let (endpoint, peer, _) = startedEndpoint()
        defer { tearDown(endpoint, peer) }
        shard.queue.sync {
            let chunk = [UInt8](repeating: 0x46, count: 65536)
            for _ in 0..<1000 where endpoint.pendingCount == 0 { endpoint.write(chunk) }
            for _ in 0..<8 { endpoint.write(chunk) }  // a backlog of about 512 KiB
            XCTAssertGreaterThan(endpoint.pendingCount, 8 * 65536)
        }
        // The peer reads a little at a time while the endpoint keeps queueing: the written prefix must not
        // pile up in the buffer.
        for _ in 0..<50 {
            _ = IOFixture.receive(peer, count: 32768)
            shard.queue.sync {
                endpoint.flush()
                endpoint.write([UInt8](repeating: 0x47, count: 32768))
                XCTAssertLessThanOrEqual(endpoint.pending.count, 2 * endpoint.pendingCount + 65536)
            }
        }
    }
}
