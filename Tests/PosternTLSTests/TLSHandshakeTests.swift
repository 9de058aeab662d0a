import Foundation
import PosternTLS
import XCTest

/// A server engine and a client engine talking through memory: handshakes, data, close_notify.
final class TLSHandshakeTests: XCTestCase {
    func testHandshakeDefaultsToTLS13AndReportsTheSession() throws {
        let pki = try TestPKI.get()
        let clientContext = try TLSContext.client(ClientTLSSettings(caFile: pki.caCert))
        let serverContext = try pki.server()
        XCTAssertTrue(serverContext.isServer)
        XCTAssertFalse(clientContext.isServer)
        XCTAssertTrue(clientContext.verifiesPeer)

        let client = try TLSEngine(context: clientContext, serverName: "localhost")
        let server = try TLSEngine(context: serverContext)
        XCTAssertNil(client.sessionInfo, "no session before the handshake")
        XCTAssertFalse(client.handshakeComplete)

        let outcome = runHandshake(client: client, server: server)
        XCTAssertTrue(outcome.succeeded, outcome.errors)
        XCTAssertTrue(client.handshakeComplete)
        XCTAssertTrue(server.handshakeComplete)

        let clientInfo = try XCTUnwrap(client.sessionInfo)
        let serverInfo = try XCTUnwrap(server.sessionInfo)
        XCTAssertEqual(clientInfo.version, "TLSv1.3")
        XCTAssertEqual(serverInfo.version, "TLSv1.3")
        XCTAssertEqual(clientInfo.cipher, serverInfo.cipher)
        XCTAssertTrue(clientInfo.cipher.hasPrefix("TLS_AES_"), clientInfo.cipher)
        XCTAssertFalse(clientInfo.resumed)
    }

    func testDataFlowsBothWays() throws {
        let pki = try TestPKI.get()
        let (client, server) = try connectedPair(
            client: TLSContext.client(ClientTLSSettings(caFile: pki.caCert)), server: pki.server())

        let request = Array("a1 LOGIN alice secret\r\n".utf8)
        try request.withUnsafeBytes { try client.write($0) }
        XCTAssertGreaterThan(client.outgoingCount, request.count, "ciphertext is larger than the plaintext")
        XCTAssertEqual(try receive(request.count, by: server, from: client), request)

        let reply = Array("a1 OK logged in\r\n".utf8)
        try reply.withUnsafeBytes { try server.write($0) }
        XCTAssertEqual(try receive(reply.count, by: client, from: server), reply)

        // More than one record and more than one readPlaintext limit.
        let bulk = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        try bulk.withUnsafeBytes { try server.write($0) }
        XCTAssertEqual(try receive(bulk.count, by: client, from: server), bulk)
    }

    func testReadPlaintextHonoursTheLimit() throws {
        let pki = try TestPKI.get()
        let (client, server) = try connectedPair(
            client: TLSContext.client(ClientTLSSettings(caFile: pki.caCert)), server: pki.server())
        let message = [UInt8](repeating: 0x41, count: 1000)
        try message.withUnsafeBytes { try client.write($0) }
        transfer(from: client, to: server)
        var output: [UInt8] = [1, 2, 3]
        XCTAssertEqual(try server.readPlaintext(into: &output, limit: 100), .data(100))
        XCTAssertEqual(output.count, 103, "plaintext is appended")
        XCTAssertEqual(Array(output.prefix(3)), [1, 2, 3])
        XCTAssertEqual(try server.readPlaintext(into: &output), .data(900))
        XCTAssertEqual(try server.readPlaintext(into: &output), .wantMore)
        XCTAssertEqual(output.count, 1003)
    }

    func testReadBeforeAnyCiphertextWantsMore() throws {
        let pki = try TestPKI.get()
        let server = try TLSEngine(context: pki.server())
        var output: [UInt8] = []
        XCTAssertEqual(try server.readPlaintext(into: &output), .wantMore)
        XCTAssertTrue(output.isEmpty)
        XCTAssertFalse(server.handshakeComplete)
    }

    func testWriteBeforeTheHandshakeIsRefused() throws {
        let pki = try TestPKI.get()
        let client = try TLSEngine(
            context: TLSContext.client(ClientTLSSettings(caFile: pki.caCert)), serverName: "localhost")
        let error = tlsError { try Array("a1 NOOP\r\n".utf8).withUnsafeBytes { try client.write($0) } }
        XCTAssertEqual(error?.message, "TLS write before the handshake finished")
    }

    func testCloseNotifyEndsThePeersReads() throws {
        let pki = try TestPKI.get()
        let (client, server) = try connectedPair(
            client: TLSContext.client(ClientTLSSettings(caFile: pki.caCert)), server: pki.server())

        let last = Array("* BYE\r\n".utf8)
        try last.withUnsafeBytes { try server.write($0) }
        server.shutdown()
        transfer(from: server, to: client)
        var output: [UInt8] = []
        // The data before the alert comes first, then the close.
        XCTAssertEqual(try client.readPlaintext(into: &output), .data(last.count))
        XCTAssertEqual(output, last)
        XCTAssertTrue(client.receivedCloseNotify)
        XCTAssertEqual(try client.readPlaintext(into: &output), .closed)
        XCTAssertEqual(try client.readPlaintext(into: &output), .closed, "closed stays closed")

        // And the other direction.
        client.shutdown()
        transfer(from: client, to: server)
        XCTAssertFalse(server.receivedCloseNotify)
        XCTAssertEqual(try server.readPlaintext(into: &output), .closed)
        XCTAssertTrue(server.receivedCloseNotify)
    }

    func testGarbageFromThePeerIsAnError() throws {
        let pki = try TestPKI.get()
        let (client, server) = try connectedPair(
            client: TLSContext.client(ClientTLSSettings(caFile: pki.caCert)), server: pki.server())
        _ = client
        let garbage: [UInt8] = [0x17, 0x03, 0x03, 0x00, 0x20] + [UInt8](repeating: 0xAB, count: 32)
        garbage.withUnsafeBytes { server.feed($0) }
        var output: [UInt8] = []
        let error = tlsError { try server.readPlaintext(into: &output) }
        XCTAssertTrue(error?.message.hasPrefix("TLS read failed") ?? false, error?.message ?? "")
        XCTAssertFalse(error?.message.contains("certificate verification") ?? true, error?.message ?? "")
    }

    func testPlainTextClientIsRefusedByTheServer() throws {
        let pki = try TestPKI.get()
        let server = try TLSEngine(context: pki.server())
        Array("a1 CAPABILITY\r\n".utf8).withUnsafeBytes { server.feed($0) }
        let error = tlsError { try server.handshake() }
        XCTAssertTrue(error?.message.hasPrefix("TLS handshake failed") ?? false, error?.message ?? "")
    }

    // MARK: - Verification of the server by the client

    func testVerificationPassesForHostNameAndIPAddress() throws {
        let pki = try TestPKI.get()
        let clientContext = try TLSContext.client(ClientTLSSettings(caFile: pki.caCert))
        let serverContext = try pki.server()
        for name in ["localhost", "127.0.0.1"] {
            let outcome = runHandshake(
                client: try TLSEngine(context: clientContext, serverName: name),
                server: try TLSEngine(context: serverContext))
            XCTAssertTrue(outcome.succeeded, "\(name): \(outcome.errors)")
        }
    }

    func testWrongCAFailsWithACertificateVerificationMessage() throws {
        let pki = try TestPKI.get()
        let clientContext = try TLSContext.client(ClientTLSSettings(caFile: pki.otherCACert))
        let outcome = runHandshake(
            client: try TLSEngine(context: clientContext, serverName: "localhost"),
            server: try TLSEngine(context: pki.server()))
        let message = try XCTUnwrap(outcome.clientError, "the client must refuse the server").message
        XCTAssertTrue(message.contains("certificate verification failed"), message)
        XCTAssertTrue(message.contains("local issuer certificate"), message)
        XCTAssertNotNil(outcome.serverError, "the server hears the client's alert")
    }

    func testWrongHostNameFails() throws {
        let pki = try TestPKI.get()
        let clientContext = try TLSContext.client(ClientTLSSettings(caFile: pki.caCert))
        for name in ["imap.example.org", "127.0.0.2", "::1"] {
            let outcome = runHandshake(
                client: try TLSEngine(context: clientContext, serverName: name),
                server: try TLSEngine(context: pki.server()))
            let message = try XCTUnwrap(outcome.clientError, "\(name) must not match").message
            XCTAssertTrue(message.contains("certificate verification failed"), message)
            XCTAssertTrue(message.contains("mismatch"), message)
        }
    }

    func testNoVerificationAcceptsAnUnknownCA() throws {
        let pki = try TestPKI.get()
        let clientContext = try TLSContext.client(ClientTLSSettings(caFile: pki.otherCACert, verify: false))
        XCTAssertFalse(clientContext.verifiesPeer)
        let (client, server) = try connectedPair(
            client: clientContext, server: pki.server(), serverName: "some.other.name")
        XCTAssertEqual(client.sessionInfo?.version, "TLSv1.3")

        // A later failure is not blamed on the certificate that was deliberately not checked.
        _ = server
        let garbage: [UInt8] = [0x17, 0x03, 0x03, 0x00, 0x20] + [UInt8](repeating: 0xAB, count: 32)
        garbage.withUnsafeBytes { client.feed($0) }
        var output: [UInt8] = []
        let error = tlsError { try client.readPlaintext(into: &output) }
        XCTAssertFalse(error?.message.contains("certificate verification") ?? true, error?.message ?? "")
    }

    func testVerificationWithoutServerNameStillChecksTheChain() throws {
        let pki = try TestPKI.get()
        let good = runHandshake(
            client: try TLSEngine(context: TLSContext.client(ClientTLSSettings(caFile: pki.caCert))),
            server: try TLSEngine(context: pki.server()))
        XCTAssertTrue(good.succeeded, good.errors)
        let bad = runHandshake(
            client: try TLSEngine(context: TLSContext.client(ClientTLSSettings(caFile: pki.otherCACert))),
            server: try TLSEngine(context: pki.server()))
        XCTAssertTrue(bad.clientError?.message.contains("certificate verification failed") ?? false, bad.errors)
    }

    // MARK: - Protocol versions

    func testServerMinimumTLS13RefusesATLS12OnlyClient() throws {
        let pki = try TestPKI.get()
        let serverContext = try pki.server(pki.serverSettings(minVersion: .tls1_3))
        let clientContext = try TLSContext.client(ClientTLSSettings(caFile: pki.caCert, maxVersion: .tls1_2))
        let outcome = runHandshake(
            client: try TLSEngine(context: clientContext, serverName: "localhost"),
            server: try TLSEngine(context: serverContext))
        XCTAssertFalse(outcome.succeeded)
        let message = try XCTUnwrap(outcome.serverError).message
        XCTAssertTrue(message.contains("unsupported protocol"), message)
        XCTAssertNotNil(outcome.clientError)
    }

    func testMaximumVersionOnEitherSideGivesTLS12() throws {
        let pki = try TestPKI.get()
        let capped = try connectedPair(
            client: TLSContext.client(ClientTLSSettings(caFile: pki.caCert, maxVersion: .tls1_2)), server: pki.server())
        XCTAssertEqual(capped.client.sessionInfo?.version, "TLSv1.2")
        XCTAssertEqual(capped.server.sessionInfo?.version, "TLSv1.2")

        let cappedServer = try connectedPair(
            client: TLSContext.client(ClientTLSSettings(caFile: pki.caCert)),
            server: pki.server(pki.serverSettings(maxVersion: .tls1_2)))
        XCTAssertEqual(cappedServer.client.sessionInfo?.version, "TLSv1.2")
    }

    func testClientMinimumTLS13RefusesATLS12Server() throws {
        let pki = try TestPKI.get()
        let outcome = runHandshake(
            client: try TLSEngine(
                context: TLSContext.client(ClientTLSSettings(caFile: pki.caCert, minVersion: .tls1_3)),
                serverName: "localhost"),
            server: try TLSEngine(context: pki.server(pki.serverSettings(maxVersion: .tls1_2))))
        XCTAssertFalse(outcome.succeeded)
        XCTAssertNotNil(outcome.serverError)
    }

    func testMaximumBelowMinimumIsRefused() throws {
        let pki = try TestPKI.get()
        let error = tlsError {
            try TLSContext.client(ClientTLSSettings(caFile: pki.caCert, minVersion: .tls1_3, maxVersion: .tls1_2))
        }
        XCTAssertEqual(error?.message, "max_version 1.2 is below min_version 1.3")
        let serverError = tlsError { try pki.server(pki.serverSettings(minVersion: .tls1_3, maxVersion: .tls1_2)) }
        XCTAssertEqual(serverError?.message, "max_version 1.2 is below min_version 1.3")
    }

    // MARK: - TLS 1.2 cipher choice

    private func negotiatedCipher(preferServerCiphers: Bool) throws -> String? {
        let pki = try TestPKI.get()
        let serverContext = try pki.server(
            pki.serverSettings(ciphers: "ECDHE+AES256:ECDHE+AES128", preferServerCiphers: preferServerCiphers))
        let clientContext = try TLSContext.client(
            ClientTLSSettings(
                caFile: pki.caCert, ciphers: "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384",
                maxVersion: .tls1_2))
        let (client, server) = try connectedPair(client: clientContext, server: serverContext)
        XCTAssertEqual(client.sessionInfo?.version, "TLSv1.2")
        XCTAssertEqual(client.sessionInfo?.cipher, server.sessionInfo?.cipher)
        return client.sessionInfo?.cipher
    }

    func testServerCipherPreferenceWins() throws {
        XCTAssertEqual(try negotiatedCipher(preferServerCiphers: true), "ECDHE-RSA-AES256-GCM-SHA384")
    }

    func testClientCipherPreferenceWinsWhenTheServerDoesNotPrefer() throws {
        XCTAssertEqual(try negotiatedCipher(preferServerCiphers: false), "ECDHE-RSA-AES128-GCM-SHA256")
    }

    func testNoCommonCipherFails() throws {
        let pki = try TestPKI.get()
        let outcome = runHandshake(
            client: try TLSEngine(
                context: TLSContext.client(
                    ClientTLSSettings(caFile: pki.caCert, ciphers: "ECDHE-RSA-CHACHA20-POLY1305", maxVersion: .tls1_2)),
                serverName: "localhost"),
            server: try TLSEngine(context: pki.server(pki.serverSettings(ciphers: "ECDHE+AESGCM"))))
        let message = try XCTUnwrap(outcome.serverError).message
        XCTAssertTrue(message.contains("no shared cipher"), message)
    }

    // MARK: - Finite-field Diffie-Hellman

    func testDHEWithRFC7919Parameters() throws {
        let pki = try TestPKI.get()
        let serverContext = try pki.server(pki.serverSettings(ciphers: "DHE+AESGCM", dhParamsPath: pki.ffdhe2048))
        let clientContext = try TLSContext.client(
            ClientTLSSettings(caFile: pki.caCert, ciphers: "DHE-RSA-AES128-GCM-SHA256", maxVersion: .tls1_2))
        let (client, _) = try connectedPair(client: clientContext, server: serverContext)
        XCTAssertEqual(client.sessionInfo?.cipher, "DHE-RSA-AES128-GCM-SHA256")
    }

    func testDHEWithAutomaticParameters() throws {
        let pki = try TestPKI.get()
        let serverContext = try pki.server(pki.serverSettings(ciphers: "DHE+AESGCM"))
        let clientContext = try TLSContext.client(
            ClientTLSSettings(caFile: pki.caCert, ciphers: "DHE-RSA-AES256-GCM-SHA384", maxVersion: .tls1_2))
        let (client, _) = try connectedPair(client: clientContext, server: serverContext)
        XCTAssertEqual(client.sessionInfo?.cipher, "DHE-RSA-AES256-GCM-SHA384")
    }
}
