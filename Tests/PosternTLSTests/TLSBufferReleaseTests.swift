import PosternTLS
import XCTest

/// An idle engine keeps no ciphertext buffer: what was fed goes once OpenSSL read it, what OpenSSL wrote goes
/// with `takeOutgoing`, after the handshake, a bulk transfer or half a record alike, and the connection goes
/// on working.
final class TLSBufferReleaseTests: XCTestCase {
    func testAnIdleEngineHoldsNoBufferAndTheConnectionGoesOn() throws {
        let pki = try TestPKI.get()
        let (client, server) = try connectedPair(
            client: TLSContext.client(ClientTLSSettings(caFile: pki.caCert)), server: pki.server())
        XCTAssertEqual(server.bufferCapacity, 0, "the handshake's flights are gone")

        let bulk = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 17) }
        try bulk.withUnsafeBytes { try server.write($0) }
        XCTAssertGreaterThan(server.outgoingCount, bulk.count, "the records wait for takeOutgoing")
        XCTAssertGreaterThanOrEqual(server.bufferCapacity, server.outgoingCount)
        XCTAssertEqual(try receive(bulk.count, by: client, from: server), bulk)
        XCTAssertEqual(server.bufferCapacity, 0, "taken after a bulk write")
        XCTAssertEqual(client.bufferCapacity, 0, "read after a bulk transfer")

        let request = Array("a1 NOOP\r\n".utf8)
        try request.withUnsafeBytes { try client.write($0) }
        XCTAssertEqual(try receive(request.count, by: server, from: client), request)
        server.shutdown()
        transfer(from: server, to: client)
        var rest: [UInt8] = []
        XCTAssertEqual(try client.readPlaintext(into: &rest), .closed, "close_notify goes through")
    }

    /// OpenSSL moves a partial record into its own record buffer: the engine keeps nothing of it, and the rest
    /// of the record completes it.
    func testHalfARecordIsKeptByOpenSSLNotTheEngine() throws {
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
        XCTAssertEqual(server.bufferCapacity, 0, "OpenSSL holds the half record")
        records.suffix(from: records.count / 2).withUnsafeBytes { server.feed(UnsafeRawBufferPointer($0)) }
        XCTAssertEqual(try server.readPlaintext(into: &plaintext), .data(4000))
        XCTAssertEqual(plaintext, message)
    }

    /// Ciphertext taken into a queue that already holds bytes goes after them.
    func testTakenCiphertextGoesAfterWhatIsQueued() throws {
        let pki = try TestPKI.get()
        let (client, server) = try connectedPair(
            client: TLSContext.client(ClientTLSSettings(caFile: pki.caCert)), server: pki.server())
        let message = Array("* OK still here\r\n".utf8)
        try message.withUnsafeBytes { try server.write($0) }
        let pending = server.outgoingCount
        var queue: [UInt8] = [1, 2, 3]
        server.takeOutgoing(into: &queue)
        XCTAssertEqual(queue.count, 3 + pending)
        XCTAssertEqual(Array(queue.prefix(3)), [1, 2, 3])
        XCTAssertEqual(server.outgoingCount, 0)
        Array(queue.dropFirst(3)).withUnsafeBytes { client.feed($0) }
        var plaintext: [UInt8] = []
        XCTAssertEqual(try client.readPlaintext(into: &plaintext), .data(message.count))
        XCTAssertEqual(plaintext, message)
    }
}
