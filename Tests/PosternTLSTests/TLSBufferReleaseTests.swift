import PosternTLS
import XCTest

/// An idle engine keeps no memory-BIO buffers: after the handshake or a bulk transfer, with nothing pending,
/// `releaseIdleBuffers` swaps in empty BIOs, and the connection goes on working through them.
final class TLSBufferReleaseTests: XCTestCase {
    func testIdleBuffersAreReleasedAndTheConnectionGoesOn() throws {
        let pki = try TestPKI.get()
        let (client, server) = try connectedPair(
            client: TLSContext.client(ClientTLSSettings(caFile: pki.caCert)), server: pki.server())
        XCTAssertGreaterThan(server.bufferCapacity, 1024, "the handshake's flights grew the BIOs")
        XCTAssertTrue(server.releaseIdleBuffers())
        XCTAssertLessThanOrEqual(server.bufferCapacity, 1024)
        XCTAssertFalse(server.releaseIdleBuffers(), "nothing left to release")

        let bulk = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 17) }
        try bulk.withUnsafeBytes { try server.write($0) }
        XCTAssertFalse(server.releaseIdleBuffers(), "ciphertext is waiting: nothing is released")
        XCTAssertEqual(try receive(bulk.count, by: client, from: server), bulk)
        XCTAssertTrue(server.releaseIdleBuffers(), "drained after a bulk write")

        let request = Array("a1 NOOP\r\n".utf8)
        try request.withUnsafeBytes { try client.write($0) }
        XCTAssertEqual(try receive(request.count, by: server, from: client), request, "the fresh BIOs carry data")
        server.shutdown()
        transfer(from: server, to: client)
        var rest: [UInt8] = []
        XCTAssertEqual(try client.readPlaintext(into: &rest), .closed, "close_notify goes through the fresh BIOs")
    }

    /// OpenSSL moves a partial record from the read BIO into its own record buffer: swapping the BIOs then
    /// loses nothing, and the rest of the record read from the fresh BIO completes it.
    func testAReleaseWhileAPartialRecordWaitsLosesNothing() throws {
        let pki = try TestPKI.get()
        let (client, server) = try connectedPair(
            client: TLSContext.client(ClientTLSSettings(caFile: pki.caCert)), server: pki.server())
        let message = [UInt8](repeating: 0x41, count: 4000)
        try message.withUnsafeBytes { try client.write($0) }
        var records: [UInt8] = []
        client.takeOutgoing(into: &records)
        records.prefix(records.count / 2).withUnsafeBytes { server.feed(UnsafeRawBufferPointer($0)) }
        var plaintext: [UInt8] = []
        XCTAssertEqual(try server.readPlaintext(into: &plaintext), .wantMore)
        XCTAssertTrue(server.releaseIdleBuffers(), "the read BIO is empty: OpenSSL holds the half record")
        records.suffix(from: records.count / 2).withUnsafeBytes { server.feed(UnsafeRawBufferPointer($0)) }
        XCTAssertEqual(try server.readPlaintext(into: &plaintext), .data(4000))
        XCTAssertEqual(plaintext, message)
    }
}
