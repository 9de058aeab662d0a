import Foundation
import PosternTLS
import XCTest

/// Certificates chosen by SNI, and RSA and ECDSA certificates side by side.
final class TLSSNITests: XCTestCase {
    private func sniServer(_ pki: TestPKI) throws -> TLSContext {
        var settings = pki.serverSettings()
        settings.certificates = [
            TLSServerCertificate(chainPath: pki.ecdsaCert, keyPath: pki.ecdsaKey),
            TLSServerCertificate(
                chainPath: pki.otherNameCert, keyPath: pki.otherNameKey, serverNames: ["other.test", "*.wild.test"]),
        ]
        return try TLSContext.server(settings)
    }

    /// The subject of the certificate the server presented when the client asked for `name`.
    private func presented(_ name: String?, server: TLSContext, client settings: ClientTLSSettings? = nil) throws
        -> TLSCertificateInfo
    {
        let pki = try TestPKI.get()
        let client = try TLSContext.client(settings ?? ClientTLSSettings(caFile: pki.caCert, verify: false))
        let (clientEngine, serverEngine) = try connectedPair(client: client, server: server, serverName: name)
        XCTAssertEqual(serverEngine.sessionInfo?.serverName, name)
        return try XCTUnwrap(clientEngine.peerCertificate)
    }

    func testSNIPicksTheNamedCertificate() throws {
        let pki = try TestPKI.get()
        let server = try sniServer(pki)
        XCTAssertEqual(try presented("other.test", server: server).subject, "CN=other.test")
        XCTAssertEqual(try presented("OTHER.test", server: server).subject, "CN=other.test", "names ignore case")
        XCTAssertEqual(try presented("imap.wild.test", server: server).subject, "CN=other.test", "wildcard")
    }

    func testUnknownOrMissingNameGetsTheDefault() throws {
        let pki = try TestPKI.get()
        let server = try sniServer(pki)
        // The default set holds an RSA and an ECDSA certificate for localhost; a TLS 1.3 client gets either.
        let defaults = ["DNS:localhost", "IP:127.0.0.1"]
        XCTAssertEqual(try presented("localhost", server: server).alternativeNames, defaults)
        XCTAssertEqual(try presented("unknown.test", server: server).alternativeNames, defaults)
        XCTAssertEqual(try presented("a.b.wild.test", server: server).alternativeNames, defaults, "one label only")
        XCTAssertEqual(try presented(nil, server: server).alternativeNames, defaults)
    }

    func testNamedCertificateVerifiesForItsName() throws {
        let pki = try TestPKI.get()
        let server = try sniServer(pki)
        let verifying = ClientTLSSettings(caFile: pki.caCert)
        XCTAssertEqual(try presented("other.test", server: server, client: verifying).subject, "CN=other.test")
    }

    func testRSAAndECDSASideBySide() throws {
        let pki = try TestPKI.get()
        let server = try sniServer(pki)
        var ecdsaOnly = ClientTLSSettings(caFile: pki.caCert, maxVersion: .tls1_2)
        ecdsaOnly.ciphers = "ECDHE-ECDSA-AES256-GCM-SHA384"
        let ecdsa = try presented("localhost", server: server, client: ecdsaOnly)
        XCTAssertEqual(ecdsa.keyType, "ECDSA")
        XCTAssertEqual(ecdsa.subject, "O=ECDSA,CN=localhost")
        var rsaOnly = ClientTLSSettings(caFile: pki.caCert, maxVersion: .tls1_2)
        rsaOnly.ciphers = "ECDHE-RSA-AES256-GCM-SHA384"
        let rsa = try presented("localhost", server: server, client: rsaOnly)
        XCTAssertEqual(rsa.keyType, "RSA")
        XCTAssertEqual(rsa.subject, "CN=localhost")
    }

    func testTwoCertificatesOfOneKeyTypeForTheSameNamesAreRefused() throws {
        let pki = try TestPKI.get()
        var settings = pki.serverSettings()
        settings.certificates = [TLSServerCertificate(chainPath: pki.otherNameCert, keyPath: pki.otherNameKey)]
        let message = try XCTUnwrap(tlsError { try TLSContext.server(settings) }).message
        XCTAssertTrue(message.contains("are both RSA"), message)
    }

    func testInvalidServerNameIsRefused() throws {
        let pki = try TestPKI.get()
        var settings = pki.serverSettings()
        settings.certificates = [
            TLSServerCertificate(chainPath: pki.otherNameCert, keyPath: pki.otherNameKey, serverNames: ["bad name"])
        ]
        let message = try XCTUnwrap(tlsError { try TLSContext.server(settings) }).message
        XCTAssertTrue(message.contains("'bad name' is not a valid server name"), message)
    }

    func testPolicyReportListsEveryCertificateAndUsableCiphers() throws {
        let pki = try TestPKI.get()
        let report = try XCTUnwrap(try sniServer(pki).policyReport)
        XCTAssertEqual(report.versions, ["TLSv1.2", "TLSv1.3"])
        XCTAssertEqual(report.certificates.map(\.subject), ["CN=localhost", "O=ECDSA,CN=localhost", "CN=other.test"])
        XCTAssertEqual(report.certificates.last?.serverNames, ["other.test", "*.wild.test"])
        XCTAssertEqual(report.certificates.last?.alternativeNames, ["DNS:other.test", "DNS:*.wild.test"])
        XCTAssertEqual(report.certificates.first?.alternativeNames, ["DNS:localhost", "IP:127.0.0.1"])
        // ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM, in that order, for both key types.
        XCTAssertEqual(report.tls12Ciphers.first, "ECDHE-ECDSA-AES256-GCM-SHA384")
        XCTAssertTrue(report.tls12Ciphers.contains("ECDHE-RSA-AES128-GCM-SHA256"), "\(report.tls12Ciphers)")
        XCTAssertTrue(report.tls12Ciphers.allSatisfy { $0.contains("GCM") || $0.contains("CHACHA20") })
        XCTAssertEqual(report.tls13Ciphersuites, testCiphersuites.split(separator: ":").map(String.init))
        let days = try XCTUnwrap(report.certificates.first).daysLeft(now: Date().timeIntervalSince1970)
        XCTAssertTrue((0...2).contains(days), "the test certificates live 2 days: \(days)")

        let onlyTLS13 = try XCTUnwrap(try pki.server(pki.serverSettings(minVersion: .tls1_3)).policyReport)
        XCTAssertEqual(onlyTLS13.versions, ["TLSv1.3"])
        XCTAssertEqual(onlyTLS13.tls12Ciphers, [], "no TLS 1.2 cipher is usable with TLS 1.3 only")
    }
}
