import Dispatch
import Glibc
import PosternTLS
import XCTest

@testable import PosternIO

/// Closing an endpoint in each of its states releases its fd: the process's fd count returns to where it
/// was once the cancel handlers ran.
final class EndpointCloseTests: XCTestCase {
    private var shard: EventShard!
    private var baseline = 0

    override func setUp() {
        XCTAssertTrue(IOFixture.warmedUp)
        shard = IOFixture.shard(index: 0, readBufferSize: 65536)
        baseline = IOFixture.fdCount()
    }

    /// Makes an endpoint over a socket pair, runs `body` on the shard with it, closes it there, closes the
    /// peer, and checks that every fd is gone.
    private func assertCloseReleasesFDs(
        file: StaticString = #filePath, line: UInt = #line,
        _ body: (Endpoint, Int32, RecordingDelegate) throws -> Void
    ) rethrows {
        let (fd, peer) = IOFixture.socketPair()
        let delegate = RecordingDelegate()
        let endpoint = Endpoint(fd: fd, shard: shard)
        endpoint.delegate = delegate
        XCTAssertEqual(IOFixture.fdCount(), baseline + 2, file: file, line: line)
        try body(endpoint, peer, delegate)
        shard.queue.sync { endpoint.close() }
        XCTAssertTrue(endpoint.isClosed, file: file, line: line)
        Glibc.close(peer)
        XCTAssertEqual(IOFixture.waitForFDCount(baseline, shard: shard), baseline, file: file, line: line)
        XCTAssertTrue(shard.queue.sync { endpoint.fdReleased }, file: file, line: line)
        XCTAssertNil(delegate.failure, "close is not a failure", file: file, line: line)
    }

    func testCloseBeforeStart() {
        assertCloseReleasesFDs { _, _, _ in }
    }

    func testStartAfterCloseDoesNothing() {
        assertCloseReleasesFDs { endpoint, _, _ in
            shard.queue.sync {
                endpoint.close()
                endpoint.start()
                XCTAssertNil(endpoint.readSource)
            }
        }
    }

    func testAnEndpointDroppedBeforeStartClosesItsFD() {
        let (fd, peer) = IOFixture.socketPair()
        var endpoint: Endpoint? = Endpoint(fd: fd, shard: shard)
        XCTAssertNotNil(endpoint)
        endpoint = nil
        Glibc.close(peer)
        XCTAssertEqual(IOFixture.fdCount(), baseline)
    }

    func testCloseRightAfterStart() {
        assertCloseReleasesFDs { endpoint, _, _ in
            shard.queue.sync { endpoint.start() }
        }
    }

    func testCloseInTheSameTurnAsStart() {
        let (fd, peer) = IOFixture.socketPair()
        let endpoint = Endpoint(fd: fd, shard: shard)
        shard.queue.sync {
            endpoint.start()
            endpoint.close()
        }
        Glibc.close(peer)
        XCTAssertEqual(IOFixture.waitForFDCount(baseline, shard: shard), baseline)
    }

    func testCloseWhileReadsArePaused() {
        assertCloseReleasesFDs { endpoint, peer, delegate in
            shard.queue.sync {
                endpoint.start()
                endpoint.pauseReading()
            }
            IOFixture.send(peer, "a1 NOOP\r\n")
            // The read event arrives and suspends the read source: the state a close must undo.
            XCTAssertTrue(eventually { shard.queue.sync { endpoint.readSuspended } })
            XCTAssertTrue(delegate.received.isEmpty)
        }
    }

    func testCloseWithPendingOutput() {
        assertCloseReleasesFDs { endpoint, _, _ in
            shard.queue.sync {
                endpoint.start()
                let chunk = [UInt8](repeating: 0x41, count: 65536)
                for _ in 0..<64 where endpoint.pendingCount == 0 { endpoint.write(chunk) }
                XCTAssertGreaterThan(endpoint.pendingCount, 0, "the peer never reads, so output queues")
            }
        }
    }

    func testCloseAfterEOF() {
        assertCloseReleasesFDs { endpoint, peer, delegate in
            shard.queue.sync { endpoint.start() }
            shutdown(peer, Int32(SHUT_WR))
            XCTAssertTrue(eventually { delegate.events.contains(.eof) })
            if shard.kind == .dispatchSources {
                XCTAssertTrue(shard.queue.sync { endpoint.readCancelled }, "the read source went at EOF")
            }
        }
    }

    func testCloseFromInsideAReadCallback() {
        assertCloseReleasesFDs { endpoint, peer, delegate in
            delegate.onEvent = { connection, event in
                if case .received = event { connection.close() }
            }
            shard.queue.sync { endpoint.start() }
            IOFixture.send(peer, "bye\r\n")
            XCTAssertTrue(eventually { shard.queue.sync { endpoint.isClosed } })
        }
    }

    func testCloseDuringTheTLSHandshake() throws {
        let pki = try IOTestPKI.get()
        let context = try pki.serverContext()
        baseline = IOFixture.fdCount()
        try assertCloseReleasesFDs { endpoint, peer, _ in
            shard.queue.sync {
                endpoint.start()
                endpoint.startTLS(context: context, serverName: nil)
            }
            // Half a ClientHello: the server waits for the rest.
            let client = try TLSEngine(context: pki.clientContext(), serverName: "localhost")
            try client.handshake()
            var hello: [UInt8] = []
            client.takeOutgoing(into: &hello)
            IOFixture.send(peer, Array(hello.prefix(hello.count / 2)))
            XCTAssertTrue(eventually { shard.queue.sync { endpoint.bytesIn } == UInt64(hello.count / 2) })
            XCTAssertTrue(shard.queue.sync { endpoint.isHandshaking })
        }
    }
}
