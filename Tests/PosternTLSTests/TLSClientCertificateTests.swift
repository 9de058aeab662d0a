import Foundation
import PosternTLS
import XCTest

/// Client certificates: asked for by the server (none, optional, required) and sent by a client for mutual TLS.
final class TLSClientCertificateTests: XCTestCase {
    private func server(_ mode: TLSClientCertificateMode) throws -> TLSContext {
        let pki = try TestPKI.get()
        var settings = pki.serverSettings()
        settings.clientCertificates = mode
        settings.clientCAFile = pki.caCert
        return try TLSContext.server(settings)
    }

    private func client(certificate: String? = nil, key: String? = nil, maxVersion: TLSProtocolVersion? = nil)
        throws -> TLSContext
    {
        let pki = try TestPKI.get()
        var settings = ClientTLSSettings(caFile: pki.caCert, maxVersion: maxVersion)
        settings.certificateChainPath = certificate
        settings.privateKeyPath = key
        return try TLSContext.client(settings)
    }

    func testRequiredCertificateIsVerifiedAndReported() throws {
        let pki = try TestPKI.get()
        for version in [TLSProtocolVersion.tls1_2, .tls1_3] {
            let (clientEngine, serverEngine) = try connectedPair(
                client: client(certificate: pki.clientCert, key: pki.clientKey, maxVersion: version),
                server: server(.required))
            XCTAssertEqual(serverEngine.sessionInfo?.peerSubject, "CN=client.test", "\(version)")
            XCTAssertEqual(clientEngine.sessionInfo?.peerSubject, "CN=localhost")
        }
    }

    func testRequiredCertificateMissingFails() throws {
        for version in [TLSProtocolVersion.tls1_2, .tls1_3] {
            let outcome = runHandshake(
                client: try TLSEngine(context: client(maxVersion: version), serverName: "localhost"),
                server: try TLSEngine(context: server(.required)))
            let message = try XCTUnwrap(outcome.serverError, "\(version)").message
            XCTAssertTrue(message.contains("peer did not return a certificate"), message)
        }
    }

    func testCertificateFromAnotherCAFails() throws {
        let pki = try TestPKI.get()
        for mode in [TLSClientCertificateMode.optional, .required] {
            let outcome = runHandshake(
                client: try TLSEngine(
                    context: client(certificate: pki.strangerCert, key: pki.strangerKey), serverName: "localhost"),
                server: try TLSEngine(context: server(mode)))
            let message = try XCTUnwrap(outcome.serverError, "\(mode)").message
            XCTAssertTrue(message.contains("certificate verification failed"), message)
        }
    }

    func testOptionalCertificateMayBeLeftOut() throws {
        let pki = try TestPKI.get()
        let (_, without) = try connectedPair(client: client(), server: server(.optional))
        XCTAssertNil(without.sessionInfo?.peerSubject)
        let (_, with) = try connectedPair(
            client: client(certificate: pki.clientCert, key: pki.clientKey), server: server(.optional))
        XCTAssertEqual(with.sessionInfo?.peerSubject, "CN=client.test")
    }

    func testNoCertificateIsAskedForByDefault() throws {
        let pki = try TestPKI.get()
        let (_, serverEngine) = try connectedPair(
            client: client(certificate: pki.clientCert, key: pki.clientKey), server: pki.server())
        XCTAssertNil(serverEngine.sessionInfo?.peerSubject, "a certificate that was not asked for is not sent")
    }

    func testClientCertificateModeNeedsACAFile() throws {
        let pki = try TestPKI.get()
        var settings = pki.serverSettings()
        settings.clientCertificates = .required
        let message = try XCTUnwrap(tlsError { try TLSContext.server(settings) }).message
        XCTAssertTrue(message.contains("needs a client CA file"), message)
    }

    func testClientCertificateNeedsItsKey() throws {
        let pki = try TestPKI.get()
        var settings = ClientTLSSettings(caFile: pki.caCert)
        settings.certificateChainPath = pki.clientCert
        XCTAssertNotNil(tlsError { try TLSContext.client(settings) })
        settings.privateKeyPath = pki.serverKey
        let message = try XCTUnwrap(tlsError { try TLSContext.client(settings) }).message
        XCTAssertTrue(message.contains("does not match"), message)
    }
}
