import PosternTLS
import XCTest

/// Failed handshakes carry OpenSSL's own reason, so callers can tell them apart without parsing text; and a
/// TLS 1.3 KeyUpdate request makes the peer queue a reply by itself.
final class TLSErrorReasonTests: XCTestCase {
    func testPlaintextToATLSServerIsAWrongVersionNumber() throws {
        let pki = try TestPKI.get()
        let server = try TLSEngine(context: pki.server())
        Array("a001 CAPABILITY\r\n".utf8).withUnsafeBytes { server.feed($0) }
        let error = try XCTUnwrap(tlsError { try server.handshake() })
        XCTAssertEqual(error.reason, "wrong version number", error.message)
        XCTAssertEqual(error.library, "SSL routines", error.message)
        XCTAssertTrue(error.message.contains("wrong version number"), error.message)
    }

    func testNoCommonCipherIsNoSharedCipherOnTheServer() throws {
        let pki = try TestPKI.get()
        let server = try TLSEngine(
            context: pki.server(pki.serverSettings(maxVersion: .tls1_2, ciphers: "ECDHE+AESGCM")))
        let client = try TLSEngine(
            context: TLSContext.client(
                ClientTLSSettings(caFile: pki.caCert, ciphers: "ECDHE+CHACHA20", maxVersion: .tls1_2)),
            serverName: "localhost")
        let outcome = runHandshake(client: client, server: server)
        XCTAssertEqual(outcome.serverError?.reason, "no shared cipher", outcome.errors)
        // The client learns it from the server's alert.
        XCTAssertEqual(outcome.clientError?.reason, "sslv3 alert handshake failure", outcome.errors)
    }

    func testAnUntrustedServerIsCertificateVerifyFailed() throws {
        let pki = try TestPKI.get()
        let client = try TLSEngine(
            context: TLSContext.client(ClientTLSSettings(caFile: pki.otherCACert)), serverName: "localhost")
        let server = try TLSEngine(context: pki.server())
        let outcome = runHandshake(client: client, server: server)
        let error = try XCTUnwrap(outcome.clientError, outcome.errors)
        XCTAssertEqual(error.reason, "certificate verify failed", error.message)
        XCTAssertTrue(error.message.contains("certificate verification failed"), error.message)
    }

    func testErrorsMadeHereHaveNoOpenSSLReason() {
        XCTAssertNil(TLSError("pins need the backend's name").reason)
    }

    func testAKeyUpdateRequestMakesThePeerQueueAReplyWhileReading() throws {
        let pki = try TestPKI.get()
        let (client, server) = try connectedPair(
            client: TLSContext.client(ClientTLSSettings(caFile: pki.caCert)), server: pki.server())
        var scratch: [UInt8] = []
        XCTAssertEqual(server.outgoingCount, 0)

        // OpenSSL 3.0 writes its answer when it handles the next record (or the next write): two requests, one
        // answer queued without the server writing anything.
        for _ in 0..<2 {
            try client.updateKeys(requestPeerUpdate: true)
            XCTAssertGreaterThan(transfer(from: client, to: server), 0, "the KeyUpdate is sent at once")
            XCTAssertEqual(try server.readPlaintext(into: &scratch), .wantMore)
        }
        XCTAssertGreaterThan(server.outgoingCount, 0, "the server answers with its own KeyUpdate")

        // Both sides still talk after the keys changed.
        transfer(from: server, to: client)
        XCTAssertEqual(try client.readPlaintext(into: &scratch), .wantMore)
        let message = Array("a1 NOOP\r\n".utf8)
        try message.withUnsafeBytes { try client.write($0) }
        XCTAssertEqual(try receive(message.count, by: server, from: client), message)
    }

    func testAKeyUpdateBeforeTheHandshakeIsRefused() throws {
        let pki = try TestPKI.get()
        let client = try TLSEngine(
            context: TLSContext.client(ClientTLSSettings(caFile: pki.caCert)), serverName: "localhost")
        XCTAssertNotNil(tlsError { try client.updateKeys(requestPeerUpdate: true) })
    }
}
