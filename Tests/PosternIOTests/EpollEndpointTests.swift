import Dispatch
import Glibc
import PosternTLS
import XCTest

@testable import PosternIO

/// Endpoints on a `dispatchEpoll` shard: registered once, reads to EAGAIN within a per-turn budget, pausing
/// as a flag (the edge seen while paused is read on resume), half-close, resets (also while paused, with no
/// housekeeping pass), large transfers both ways, and TLS. Every test checks that the fds come back.
final class EpollEndpointTests: XCTestCase {
    /// One shard for the whole class: its epoll fd stays open, so it is part of every baseline.
    private static let shard = IOFixture.shard(index: 5, readBufferSize: 65536, kind: .dispatchEpoll)
    /// A tiny read buffer: 16 reads of 1 KiB per turn, so a socket holding more needs several turns.
    private static let smallShard = IOFixture.shard(index: 6, readBufferSize: 1024, kind: .dispatchEpoll)
    private var shard: EventShard { EpollEndpointTests.shard }
    private var baseline = 0

    override func setUp() {
        XCTAssertTrue(IOFixture.warmedUp)
        _ = EpollEndpointTests.shard
        _ = EpollEndpointTests.smallShard
        baseline = IOFixture.fdCount()
    }

    private func started(fd: Int32, on shard: EventShard? = nil) -> (Endpoint, RecordingDelegate) {
        let shard = shard ?? self.shard
        let delegate = RecordingDelegate()
        let endpoint = Endpoint(fd: fd, shard: shard)
        endpoint.delegate = delegate
        shard.queue.sync { endpoint.start() }
        return (endpoint, delegate)
    }

    /// Closes the endpoints (and `peers`) and checks the set is empty and every fd is back.
    private func assertReleased(
        _ endpoints: [Endpoint], peers: [Int32] = [], file: StaticString = #filePath, line: UInt = #line
    ) {
        for endpoint in endpoints { endpoint.shard.queue.sync { endpoint.close() } }
        for peer in peers { Glibc.close(peer) }
        for endpoint in endpoints {
            XCTAssertTrue(endpoint.shard.queue.sync { endpoint.fdReleased }, file: file, line: line)
            XCTAssertEqual(endpoint.shard.queue.sync { endpoint.shard.poller?.count }, 0, file: file, line: line)
        }
        XCTAssertEqual(IOFixture.waitForFDCount(baseline, shard: shard), baseline, file: file, line: line)
    }

    func testAnEndpointIsRegisteredOnceAndLeavesTheSetWhenClosed() {
        XCTAssertEqual(shard.kind, .dispatchEpoll)
        let (fd, peer) = IOFixture.socketPair()
        let (endpoint, delegate) = started(fd: fd)
        let token = shard.queue.sync { endpoint.epollToken }
        XCTAssertNotNil(token)
        XCTAssertNil(shard.queue.sync { endpoint.readSource }, "no DispatchSource per socket")
        XCTAssertEqual(shard.queue.sync { shard.poller?.count }, 1)
        for round in 0..<3 {
            IOFixture.send(peer, "a\(round) NOOP\r\n")
            XCTAssertTrue(eventually { delegate.received.count == 9 * (round + 1) })
            let reply = Array("a\(round) OK\r\n".utf8)
            shard.queue.sync { endpoint.write(reply) }
            XCTAssertEqual(IOFixture.receive(peer, count: reply.count), reply)
        }
        XCTAssertEqual(shard.queue.sync { endpoint.epollToken }, token, "the socket stays registered as it was")
        assertReleased([endpoint], peers: [peer])
    }

    func testHalfCloseBothWays() {
        let (fd, peer) = IOFixture.socketPair()
        let (endpoint, delegate) = started(fd: fd)
        IOFixture.send(peer, "last\r\n")
        shutdown(peer, Int32(SHUT_WR))
        XCTAssertTrue(eventually { delegate.events.contains(.eof) })
        XCTAssertEqual(delegate.received, Array("last\r\n".utf8))
        // The peer's EOF only closed one direction: the endpoint still writes, then half-closes.
        shard.queue.sync {
            endpoint.write(Array("* BYE\r\n".utf8))
            endpoint.shutdownWrite()
        }
        XCTAssertEqual(IOFixture.receive(peer, count: 100), Array("* BYE\r\n".utf8), "the bytes, then EOF")
        XCTAssertNil(delegate.failure)
        XCTAssertFalse(shard.queue.sync { endpoint.isClosed })
        assertReleased([endpoint], peers: [peer])
    }

    func testAPeerResetFailsTheEndpointWithReset() throws {
        let (listener, address) = IOFixture.loopbackSocket(listening: true)
        defer { Glibc.close(listener) }
        baseline = IOFixture.fdCount()
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
        XCTAssertTrue(shard.queue.sync { endpoint.isClosed })
        assertReleased([endpoint])
    }

    func testAResetWhilePausedFailsAtOnceWithoutHousekeeping() throws {
        let (listener, address) = IOFixture.loopbackSocket(listening: true)
        defer { Glibc.close(listener) }
        baseline = IOFixture.fdCount()
        let endpoint = try Connector.connect(to: address, shard: shard)
        let delegate = RecordingDelegate()
        endpoint.delegate = delegate
        shard.queue.sync { endpoint.start() }
        let accepted = try XCTUnwrap(IOFixture.accept(listener))
        XCTAssertTrue(eventually { delegate.events.contains(.connected) })
        shard.queue.sync { endpoint.pauseReading() }
        XCTAssertTrue(shard.queue.sync { shard.paused.isEmpty }, "no poll list under epoll")
        IOFixture.send(accepted, "a1 NOOP\r\n")
        XCTAssertTrue(eventually { self.shard.queue.sync { endpoint.readSuspended } }, "the edge was seen")
        SocketOps.setAbortiveClose(accepted)
        Glibc.close(accepted)
        // This shard's timer never runs: only the EPOLLERR edge can end the endpoint.
        XCTAssertTrue(eventually { self.shard.queue.sync { endpoint.isClosed } })
        XCTAssertEqual(delegate.failure?.kind, .reset, "\(delegate.events)")
        XCTAssertTrue(delegate.received.isEmpty, "nothing was delivered while paused")
        assertReleased([endpoint])
    }

    func testBytesThatArriveWhilePausedAreReadOnResume() {
        let (fd, peer) = IOFixture.socketPair()
        let (endpoint, delegate) = started(fd: fd)
        shard.queue.sync { endpoint.pauseReading() }
        IOFixture.send(peer, "a1 CAPABILITY\r\n")
        XCTAssertTrue(eventually { self.shard.queue.sync { endpoint.readSuspended } })
        XCTAssertTrue(delegate.received.isEmpty)
        // No further edge comes for those bytes: the resume itself must read them.
        shard.queue.sync { endpoint.resumeReading() }
        XCTAssertTrue(eventually { delegate.received == Array("a1 CAPABILITY\r\n".utf8) })
        IOFixture.send(peer, "a2 NOOP\r\n")
        XCTAssertTrue(eventually { delegate.received.count == 24 }, "later bytes bring a new edge")
        assertReleased([endpoint], peers: [peer])
    }

    func testEOFWhilePausedIsDeliveredOnResume() {
        let (fd, peer) = IOFixture.socketPair()
        let (endpoint, delegate) = started(fd: fd)
        shard.queue.sync { endpoint.pauseReading() }
        IOFixture.send(peer, "x")
        Glibc.close(peer)
        XCTAssertTrue(eventually { self.shard.queue.sync { endpoint.readSuspended } })
        shard.queue.sync { endpoint.resumeReading() }
        XCTAssertTrue(eventually { delegate.events.contains(.eof) })
        XCTAssertEqual(delegate.received, [UInt8(ascii: "x")])
        assertReleased([endpoint])
    }

    func testMoreThanOneTurnsBudgetIsReadOverSeveralTurns() {
        let shard = EpollEndpointTests.smallShard
        let (fd, peer) = IOFixture.socketPair()
        let (endpoint, delegate) = started(fd: fd, on: shard)
        shard.queue.sync { endpoint.pauseReading() }
        // 100 KiB waiting in the socket, one edge, and a budget of 16 KiB per turn.
        let bulk = (0..<102_400).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        let sender = Thread { IOFixture.send(peer, bulk) }
        sender.start()
        XCTAssertTrue(eventually { shard.queue.sync { endpoint.readSuspended } })
        shard.queue.sync { endpoint.resumeReading() }
        XCTAssertTrue(eventually { delegate.received.count == bulk.count }, "\(delegate.received.count)")
        XCTAssertEqual(delegate.received, bulk)
        assertReleased([endpoint], peers: [peer])
    }

    func testLargeTransfersBothWays() {
        let (fd, peer) = IOFixture.socketPair()
        let (endpoint, delegate) = started(fd: fd)
        let bulk = (0..<(4 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        shard.queue.sync {
            endpoint.maxQueuedBytes = 16 << 20
            endpoint.write(bulk)
        }
        XCTAssertGreaterThan(shard.queue.sync { endpoint.pendingCount }, 0, "more than the socket holds")
        XCTAssertEqual(IOFixture.receive(peer, count: bulk.count), bulk, "EPOLLOUT edges flushed the queue")
        XCTAssertTrue(eventually { delegate.events.contains(.drained) })

        let sender = Thread { IOFixture.send(peer, bulk) }
        sender.start()
        XCTAssertTrue(eventually { delegate.received.count == bulk.count }, "\(delegate.received.count)")
        XCTAssertEqual(delegate.received, bulk)
        XCTAssertEqual(shard.queue.sync { endpoint.bytesIn }, UInt64(bulk.count))
        assertReleased([endpoint], peers: [peer])
    }

    func testATLSHandshakeCarriesDataBothWaysAndCloseNotify() throws {
        let pki = try IOTestPKI.get()
        let (clientFD, serverFD) = IOFixture.socketPair()
        SocketOps.setNonBlocking(serverFD)
        let serverContext = try pki.serverContext()
        let clientContext = try pki.clientContext()
        baseline = IOFixture.fdCount() - 2
        let (server, serverEvents) = started(fd: serverFD)
        let (client, clientEvents) = started(fd: clientFD)
        serverEvents.onEvent = { connection, event in
            switch event {
            case .tlsEstablished: connection.write(Array("* OK\r\n".utf8))
            case .received(let bytes): connection.write(bytes)  // echo
            default: break
            }
        }
        shard.queue.sync {
            server.startTLS(context: serverContext, serverName: nil)
            client.startTLS(context: clientContext, serverName: "localhost")
        }
        XCTAssertTrue(eventually { clientEvents.received == Array("* OK\r\n".utf8) }, "\(clientEvents.events)")
        XCTAssertEqual(shard.queue.sync { client.tlsInfo?.version }, "TLSv1.3")
        let bulk = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 11) }
        shard.queue.sync { client.write(bulk) }
        XCTAssertTrue(eventually { clientEvents.received.count == 6 + bulk.count }, "\(clientEvents.received.count)")
        XCTAssertEqual(Array(clientEvents.received.dropFirst(6)), bulk)
        shard.queue.sync { client.shutdownWrite() }
        XCTAssertTrue(eventually { serverEvents.events.contains(.eof) }, "close_notify reads as EOF")
        XCTAssertNil(serverEvents.failure)
        XCTAssertNil(clientEvents.failure)
        assertReleased([client, server])
    }

    func testARefusedConnectFails() throws {
        let (closed, address) = IOFixture.loopbackSocket(listening: false)
        defer { Glibc.close(closed) }
        baseline = IOFixture.fdCount()
        let endpoint = try Connector.connect(to: address, shard: shard)
        let delegate = RecordingDelegate()
        endpoint.delegate = delegate
        shard.queue.sync { endpoint.start() }
        XCTAssertTrue(eventually { delegate.failure != nil })
        XCTAssertEqual(delegate.failure?.kind, .refused, "\(delegate.events)")
        XCTAssertFalse(delegate.events.contains(.connected))
        assertReleased([endpoint])
    }
}
