import Dispatch
import Glibc
import PosternTLS
import XCTest

@testable import PosternIO

/// TLS endpoints: handshake failures are `.tlsHandshake` with OpenSSL's reason, and TLS output OpenSSL makes
/// by itself (handshake flights, KeyUpdate replies) counts against the output cap.
final class EndpointTLSTests: XCTestCase {
    private var shard: EventShard!

    override func setUp() {
        shard = IOFixture.shard(index: 2, readBufferSize: 65536)
    }

    private func endpoint(fd: Int32) -> (Endpoint, RecordingDelegate) {
        let delegate = RecordingDelegate()
        let endpoint = Endpoint(fd: fd, shard: shard)
        endpoint.delegate = delegate
        return (endpoint, delegate)
    }

    func testPlaintextToATLSEndpointIsAHandshakeFailureWithTheReason() throws {
        let context = try IOTestPKI.get().serverContext()
        let (fd, peer) = IOFixture.socketPair()
        defer { Glibc.close(peer) }
        let (server, delegate) = endpoint(fd: fd)
        shard.queue.sync {
            server.start()
            server.startTLS(context: context, serverName: nil)
            XCTAssertTrue(server.isHandshaking)
        }
        IOFixture.send(peer, "a001 CAPABILITY\r\n")
        XCTAssertTrue(eventually { delegate.failure != nil })
        let failure = try XCTUnwrap(delegate.failure)
        XCTAssertEqual(failure.kind, .tlsHandshake)
        XCTAssertTrue(failure.message.contains("wrong version number"), failure.message)
        XCTAssertTrue(shard.queue.sync { server.isClosed })
    }

    func testAnUntrustedCertificateFailsBothSidesWithReasons() throws {
        let pki = try IOTestPKI.get()
        let (clientFD, serverFD) = IOFixture.socketPair()
        SocketOps.setNonBlocking(serverFD)
        let (server, serverEvents) = endpoint(fd: serverFD)
        let (client, clientEvents) = endpoint(fd: clientFD)
        let serverContext = try pki.serverContext()
        let clientContext = try pki.clientContext(trusting: false)
        shard.queue.sync {
            server.start()
            server.startTLS(context: serverContext, serverName: nil)
            client.start()
            client.startTLS(context: clientContext, serverName: "localhost")
        }
        XCTAssertTrue(eventually { clientEvents.failure != nil && serverEvents.failure != nil })
        let clientFailure = try XCTUnwrap(clientEvents.failure)
        XCTAssertEqual(clientFailure.kind, .tlsHandshake)
        XCTAssertTrue(clientFailure.message.contains("certificate verify failed"), clientFailure.message)
        let serverFailure = try XCTUnwrap(serverEvents.failure)
        XCTAssertEqual(serverFailure.kind, .tlsHandshake)
        XCTAssertTrue(serverFailure.message.contains("alert unknown ca"), serverFailure.message)
        XCTAssertFalse(clientEvents.events.contains(.tlsEstablished))
    }

    func testATrustedHandshakeCarriesData() throws {
        let pki = try IOTestPKI.get()
        let (clientFD, serverFD) = IOFixture.socketPair()
        SocketOps.setNonBlocking(serverFD)
        let (server, serverEvents) = endpoint(fd: serverFD)
        let (client, clientEvents) = endpoint(fd: clientFD)
        let serverContext = try pki.serverContext()
        let clientContext = try pki.clientContext()
        serverEvents.onEvent = { connection, event in
            if event == .tlsEstablished { connection.write(Array("* OK\r\n".utf8)) }
        }
        shard.queue.sync {
            server.start()
            server.startTLS(context: serverContext, serverName: nil)
            client.start()
            client.startTLS(context: clientContext, serverName: "localhost")
        }
        XCTAssertTrue(eventually { clientEvents.received == Array("* OK\r\n".utf8) }, "\(clientEvents.events)")
        XCTAssertTrue(clientEvents.events.contains(.tlsEstablished))
        XCTAssertEqual(shard.queue.sync { client.tlsInfo?.version }, "TLSv1.3")
        shard.queue.sync {
            client.close()
            server.close()
        }
    }

    func testHandshakeOutputOverTheCapFailsWithOutputOverflow() throws {
        let pki = try IOTestPKI.get()
        let context = try pki.serverContext()
        let (fd, peer) = IOFixture.socketPair()
        defer { Glibc.close(peer) }
        let (server, delegate) = endpoint(fd: fd)
        // The peer never reads: with the socket full, the server's whole first flight stays queued.
        IOFixture.fillSocket(fd)
        shard.queue.sync {
            server.maxQueuedBytes = 256
            server.start()
            server.startTLS(context: context, serverName: nil)
        }
        let client = try TLSEngine(context: pki.clientContext(), serverName: "localhost")
        try client.handshake()
        var hello: [UInt8] = []
        client.takeOutgoing(into: &hello)
        IOFixture.send(peer, hello)
        XCTAssertTrue(eventually { delegate.failure != nil })
        XCTAssertEqual(delegate.failure?.kind, .outputOverflow, "\(delegate.events)")
    }

    /// A client that asks for KeyUpdates and never reads: the replies OpenSSL makes while reading fill the
    /// queue until the cap ends the endpoint.
    func testKeyUpdateRepliesToAClientThatNeverReadsHitTheCap() throws {
        let pki = try IOTestPKI.get()
        let context = try pki.serverContext()
        let (fd, peer) = IOFixture.socketPair()
        defer { Glibc.close(peer) }
        let (server, delegate) = endpoint(fd: fd)
        shard.queue.sync {
            server.maxQueuedBytes = 16384
            server.start()
            server.startTLS(context: context, serverName: nil)
        }
        let client = try TLSEngine(context: pki.clientContext(), serverName: "localhost")
        try handshake(client, over: peer)
        XCTAssertTrue(eventually { delegate.events.contains(.tlsEstablished) })

        var batches = 0
        while delegate.failure == nil && batches < 2000 {
            for _ in 0..<50 { try client.updateKeys(requestPeerUpdate: true) }
            var records: [UInt8] = []
            client.takeOutgoing(into: &records)
            guard IOFixture.send(peer, records) else { break }  // the server closed
            batches += 1
        }
        XCTAssertTrue(eventually { delegate.failure != nil })
        XCTAssertEqual(delegate.failure?.kind, .outputOverflow, "\(delegate.events)")
        XCTAssertTrue(delegate.received.isEmpty, "no application data was sent")
    }

    /// Runs a client engine's handshake against the endpoint on the other end of `fd`.
    private func handshake(_ client: TLSEngine, over fd: Int32) throws {
        var buffer = [UInt8](repeating: 0, count: 65536)
        for _ in 0..<20 where !client.handshakeComplete {
            try client.handshake()
            var out: [UInt8] = []
            client.takeOutgoing(into: &out)
            if !out.isEmpty { IOFixture.send(fd, out) }
            if client.handshakeComplete { break }
            let got = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            guard got > 0 else { break }
            buffer.withUnsafeBytes { client.feed(UnsafeRawBufferPointer(rebasing: $0[..<got])) }
        }
        XCTAssertTrue(client.handshakeComplete)
        var finished: [UInt8] = []
        client.takeOutgoing(into: &finished)
        if !finished.isEmpty { IOFixture.send(fd, finished) }
    }
}
