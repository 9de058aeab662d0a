import Dispatch
import Glibc
import PosternTLS
import XCTest

@testable import PosternIO

/// TLS that starts with bytes read as plaintext first (a ClientHello that came in the same read as a PROXY
/// header), and the socket's local address.
final class EndpointReplayTests: XCTestCase {
    func testAClientHelloReadBeforeStartTLSIsReplayedIntoTheHandshake() throws {
        let pki = try IOTestPKI.get()
        let context = try pki.serverContext()
        let shard = IOFixture.shard(index: 3, readBufferSize: 65536)
        let (fd, peer) = IOFixture.socketPair()
        defer { Glibc.close(peer) }
        let delegate = RecordingDelegate()
        let server = Endpoint(fd: fd, shard: shard)
        server.delegate = delegate
        let header = Array("PROXY TCP4 203.0.113.9 198.51.100.20 40000 993\r\n".utf8)
        delegate.onEvent = { connection, event in
            switch event {
            case .received(let bytes) where connection.tlsInfo == nil && !connection.isHandshaking:
                // The first read: the header and the hello together.
                XCTAssertEqual(Array(bytes.prefix(header.count)), header)
                connection.startTLS(context: context, serverName: nil, received: Array(bytes.dropFirst(header.count)))
            case .tlsEstablished:
                connection.write(Array("* OK\r\n".utf8))
            default:
                break
            }
        }
        shard.queue.sync { server.start() }
        let client = try TLSEngine(context: pki.clientContext(), serverName: "localhost")
        try client.handshake()
        var hello: [UInt8] = []
        client.takeOutgoing(into: &hello)
        XCTAssertTrue(IOFixture.send(peer, header + hello))
        var buffer = [UInt8](repeating: 0, count: 65536)
        var plaintext: [UInt8] = []
        for _ in 0..<20 where plaintext.isEmpty {
            let got = buffer.withUnsafeMutableBytes { Glibc.read(peer, $0.baseAddress!, $0.count) }
            guard got > 0 else { break }
            buffer.withUnsafeBytes { client.feed(UnsafeRawBufferPointer(rebasing: $0[..<got])) }
            if !client.handshakeComplete { try client.handshake() }
            var out: [UInt8] = []
            client.takeOutgoing(into: &out)
            if !out.isEmpty { IOFixture.send(peer, out) }
            if client.handshakeComplete { _ = try client.readPlaintext(into: &plaintext) }
        }
        XCTAssertTrue(client.handshakeComplete)
        XCTAssertEqual(plaintext, Array("* OK\r\n".utf8))
        XCTAssertTrue(delegate.events.contains(.tlsEstablished))
        shard.queue.sync { server.close() }
    }

    func testTheLocalAddressIsWhereThePeerConnected() throws {
        let (listener, address) = IOFixture.loopbackSocket(listening: true)
        defer { Glibc.close(listener) }
        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { Glibc.close(client) }
        var storage = address.storage
        let rc = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, address.length) }
        }
        XCTAssertEqual(rc, 0)
        let accepted = try XCTUnwrap(IOFixture.accept(listener))
        let endpoint = Endpoint(fd: accepted, shard: IOFixture.shard(index: 4, readBufferSize: 4096))
        XCTAssertEqual(endpoint.localAddress, address)
    }
}
