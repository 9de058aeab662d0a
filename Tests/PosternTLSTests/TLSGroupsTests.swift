import Foundation
import PosternTLS
import XCTest

/// Key-exchange groups: the server's list decides the ephemeral key.
final class TLSGroupsTests: XCTestCase {
    private func temporaryKey(server groups: String?, client clientGroups: String? = nil, tls12: Bool = false) throws
        -> (type: String, bits: Int)?
    {
        let pki = try TestPKI.get()
        var settings = pki.serverSettings()
        settings.groups = groups
        var clientSettings = ClientTLSSettings(caFile: pki.caCert, maxVersion: tls12 ? .tls1_2 : nil)
        clientSettings.groups = clientGroups
        let (client, _) = try connectedPair(
            client: TLSContext.client(clientSettings), server: TLSContext.server(settings))
        return client.peerTemporaryKey
    }

    func testX25519Only() throws {
        let key = try XCTUnwrap(try temporaryKey(server: "X25519"))
        XCTAssertEqual(key.type, "X25519")
        XCTAssertEqual(key.bits, 253)
        let tls12 = try XCTUnwrap(try temporaryKey(server: "X25519", tls12: true))
        XCTAssertEqual(tls12.type, "X25519")
    }

    func testP256Only() throws {
        let key = try XCTUnwrap(try temporaryKey(server: "P-256"))
        XCTAssertEqual(key.type, "EC")
        XCTAssertEqual(key.bits, 256)
    }

    func testServerOrderOfGroupsWinsInTLS12() throws {
        // The client offers both; in TLS 1.2 the server's first choice is taken. (In TLS 1.3 OpenSSL takes a
        // key share the client already sent when the server accepts its group, saving a round trip.)
        let key = try XCTUnwrap(try temporaryKey(server: "P-384:X25519", client: "X25519:P-384", tls12: true))
        XCTAssertEqual(key.type, "EC")
        XCTAssertEqual(key.bits, 384)
        let tls13 = try XCTUnwrap(try temporaryKey(server: "P-384:X25519", client: "X25519:P-384"))
        XCTAssertEqual(tls13.type, "X25519")
    }

    func testNoCommonGroupFails() throws {
        let pki = try TestPKI.get()
        var settings = pki.serverSettings()
        settings.groups = "P-256"
        var clientSettings = ClientTLSSettings(caFile: pki.caCert)
        clientSettings.groups = "X25519"
        let outcome = runHandshake(
            client: try TLSEngine(context: TLSContext.client(clientSettings), serverName: "localhost"),
            server: try TLSEngine(context: TLSContext.server(settings)))
        XCTAssertFalse(outcome.succeeded)
        XCTAssertNotNil(outcome.serverError)
    }

    func testUnknownGroupIsRefused() throws {
        let pki = try TestPKI.get()
        var settings = pki.serverSettings()
        settings.groups = "X25519:nonsense"
        let message = try XCTUnwrap(tlsError { try TLSContext.server(settings) }).message
        XCTAssertTrue(message.hasPrefix("groups \"X25519:nonsense\""), message)
    }
}
