import PosternTLS
import XCTest

/// ALPACA defences: ALPN must name the listener's protocol when offered, and `strictSNI` refuses unknown names.
final class TLSCrossProtocolTests: XCTestCase {
    private func alpnServer(_ proto: String = "imap") throws -> TLSContext {
        let pki = try TestPKI.get()
        var settings = pki.serverSettings()
        settings.applicationProtocol = proto
        return try TLSContext.server(settings)
    }

    private func client() throws -> TLSContext {
        try TLSContext.client(ClientTLSSettings(caFile: TestPKI.get().caCert, verify: false))
    }

    private func handshake(client: TLSContext, server: TLSContext, name: String? = "localhost") throws
        -> (outcome: HandshakeOutcome, client: TLSEngine, server: TLSEngine)
    {
        let clientEngine = try TLSEngine(context: client, serverName: name)
        let serverEngine = try TLSEngine(context: server)
        return (runHandshake(client: clientEngine, server: serverEngine), clientEngine, serverEngine)
    }

    func testTheListenersProtocolIsAgreedAndShownInTheSessionInfo() throws {
        let result = try handshake(client: client().offering(applicationProtocol: "imap"), server: alpnServer())
        XCTAssertTrue(result.outcome.succeeded, result.outcome.errors)
        XCTAssertEqual(result.server.sessionInfo?.alpn, "imap")
        XCTAssertEqual(result.client.sessionInfo?.alpn, "imap")
    }

    func testAnotherProtocolFailsWithNoApplicationProtocol() throws {
        let result = try handshake(client: client().offering(applicationProtocol: "pop3"), server: alpnServer())
        XCTAssertFalse(result.outcome.succeeded)
        XCTAssertEqual(result.outcome.serverError?.reason, "no application protocol", result.outcome.errors)
        XCTAssertTrue(
            result.outcome.clientError?.message.contains("no application protocol") ?? false, result.outcome.errors)
    }

    func testAClientWithoutALPNIsAccepted() throws {
        let result = try handshake(client: client(), server: alpnServer("managesieve"))
        XCTAssertTrue(result.outcome.succeeded, result.outcome.errors)
        XCTAssertNil(result.server.sessionInfo?.alpn)
    }

    func testOnlyMailProtocolsCanBeOffered() throws {
        let error = tlsError { try client().offering(applicationProtocol: "http/1.1") }
        XCTAssertTrue(error?.message.contains("http/1.1") ?? false)
        var settings = try TestPKI.get().serverSettings()
        settings.applicationProtocol = "smtp"
        XCTAssertNotNil(tlsError { try TLSContext.server(settings) })
    }

    private func strictServer(_ strict: Bool) throws -> TLSContext {
        let pki = try TestPKI.get()
        var settings = pki.serverSettings()
        settings.strictSNI = strict
        settings.applicationProtocol = "imap"
        settings.certificates = [
            TLSServerCertificate(
                chainPath: pki.otherNameCert, keyPath: pki.otherNameKey, serverNames: ["other.test", "*.wild.test"])
        ]
        return try TLSContext.server(settings)
    }

    func testStrictSNIRefusesNamesNoCertificateServes() throws {
        let server = try strictServer(true)
        for name in ["unknown.test", "a.b.wild.test"] {
            let result = try handshake(client: client(), server: server, name: name)
            XCTAssertFalse(result.outcome.succeeded, name)
            XCTAssertTrue(
                result.outcome.clientError?.message.contains("unrecognized name") ?? false, result.outcome.errors)
        }
        for name in ["localhost", "LOCALHOST", "other.test", "imap.wild.test"] {
            let result = try handshake(client: client(), server: server, name: name)
            XCTAssertTrue(result.outcome.succeeded, "\(name): \(result.outcome.errors)")
        }
        let noSNI = try handshake(client: client(), server: server, name: nil)
        XCTAssertTrue(noSNI.outcome.succeeded, "a client without SNI is accepted: \(noSNI.outcome.errors)")
        // After the SNI switch the named certificate's context still insists on the listener's ALPN.
        let switched = try handshake(
            client: client().offering(applicationProtocol: "pop3"), server: server, name: "other.test")
        XCTAssertEqual(switched.outcome.serverError?.reason, "no application protocol", switched.outcome.errors)
    }

    func testWithoutStrictSNIUnknownNamesGetTheDefault() throws {
        let result = try handshake(client: client(), server: strictServer(false), name: "unknown.test")
        XCTAssertTrue(result.outcome.succeeded, result.outcome.errors)
    }
}
