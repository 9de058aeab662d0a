import Foundation
import PosternTLS
import XCTest

/// Contexts that cannot be built: each refusal is a TLSError that names the file or setting at fault.
final class TLSContextErrorTests: XCTestCase {
    func testWeakDHParametersAreRefused() throws {
        let pki = try TestPKI.get()
        let error = tlsError { try pki.server(pki.serverSettings(dhParamsPath: pki.dh1024)) }
        let message = try XCTUnwrap(error).message
        XCTAssertTrue(message.contains(pki.dh1024), message)
        XCTAssertTrue(message.contains("1024 bits"), message)
        XCTAssertTrue(message.contains("2048"), message)
    }

    func testRFC7919ParametersLoad() throws {
        let pki = try TestPKI.get()
        XCTAssertNoThrow(try pki.server(pki.serverSettings(dhParamsPath: pki.ffdhe2048)))
    }

    func testMissingOrNonPEMDHParametersAreRefused() throws {
        let pki = try TestPKI.get()
        let missing = TestPKI.directory + "/no-such-dh.pem"
        let missingError = tlsError { try pki.server(pki.serverSettings(dhParamsPath: missing)) }
        XCTAssertTrue(missingError?.message.hasPrefix("DH parameters \(missing)") ?? false, missingError?.message ?? "")

        // A certificate is PEM, but not parameters.
        let wrongError = tlsError { try pki.server(pki.serverSettings(dhParamsPath: pki.caCert)) }
        let message = try XCTUnwrap(wrongError).message
        XCTAssertTrue(message.contains("are not PEM parameters"), message)
    }

    func testMissingCertificateFile() throws {
        let pki = try TestPKI.get()
        let missing = TestPKI.directory + "/no-such-cert.pem"
        var settings = pki.serverSettings()
        settings.certificateChainPath = missing
        let message = try XCTUnwrap(tlsError { try TLSContext.server(settings) }).message
        XCTAssertTrue(message.hasPrefix("certificate \(missing)"), message)
        XCTAssertTrue(message.contains("No such file or directory"), message)
    }

    func testMissingKeyFile() throws {
        let pki = try TestPKI.get()
        let missing = TestPKI.directory + "/no-such-key.pem"
        var settings = pki.serverSettings()
        settings.privateKeyPath = missing
        let message = try XCTUnwrap(tlsError { try TLSContext.server(settings) }).message
        XCTAssertTrue(message.hasPrefix("private key \(missing)"), message)
    }

    func testKeyThatDoesNotMatchTheCertificate() throws {
        let pki = try TestPKI.get()
        var settings = pki.serverSettings()
        settings.privateKeyPath = pki.unrelatedKey
        let message = try XCTUnwrap(tlsError { try TLSContext.server(settings) }).message
        XCTAssertTrue(message.contains(pki.unrelatedKey), message)
        XCTAssertTrue(message.contains("does not match the certificate"), message)
    }

    func testKeyOfAnotherTypeThanTheCertificate() throws {
        let pki = try TestPKI.get()
        var settings = pki.serverSettings()
        settings.privateKeyPath = TestPKI.directory + "/other-ca.key"  // EC, the certificate is RSA
        let message = try XCTUnwrap(tlsError { try TLSContext.server(settings) }).message
        XCTAssertTrue(message.contains("other-ca.key does not match the certificate \(pki.serverCert)"), message)
    }

    func testCertificateFileThatIsNotACertificate() throws {
        let pki = try TestPKI.get()
        var settings = pki.serverSettings()
        settings.certificateChainPath = pki.serverKey
        let message = try XCTUnwrap(tlsError { try TLSContext.server(settings) }).message
        XCTAssertTrue(message.hasPrefix("certificate \(pki.serverKey)"), message)
    }

    func testServerCipherListSelectingNothing() throws {
        let pki = try TestPKI.get()
        let message = try XCTUnwrap(tlsError { try pki.server(pki.serverSettings(ciphers: "NO-SUCH-CIPHER")) }).message
        XCTAssertTrue(message.contains("ciphers \"NO-SUCH-CIPHER\" select no cipher"), message)
        XCTAssertTrue(message.contains("no cipher match"), message)
    }

    func testServerCiphersuitesSelectingNothing() throws {
        let pki = try TestPKI.get()
        var settings = pki.serverSettings()
        settings.ciphersuites = "TLS_NO_SUCH_SUITE"
        let message = try XCTUnwrap(tlsError { try TLSContext.server(settings) }).message
        XCTAssertTrue(message.contains("ciphersuites \"TLS_NO_SUCH_SUITE\""), message)
    }

    func testClientCipherListSelectingNothing() throws {
        let message = try XCTUnwrap(tlsError { try TLSContext.client(ClientTLSSettings(ciphers: "NOPE")) }).message
        XCTAssertTrue(message.contains("backend ciphers \"NOPE\" select no cipher"), message)
    }

    func testMissingCAFile() throws {
        let missing = TestPKI.directory + "/no-such-ca.pem"
        let message = try XCTUnwrap(tlsError { try TLSContext.client(ClientTLSSettings(caFile: missing)) }).message
        XCTAssertTrue(message.hasPrefix("CA file \(missing)"), message)
    }

    func testNoCAFileUsesTheSystemStore() throws {
        let context = try TLSContext.client(ClientTLSSettings())
        XCTAssertTrue(context.verifiesPeer)
    }

    func testErrorsDoNotLeakIntoTheNextOperation() throws {
        let pki = try TestPKI.get()
        _ = tlsError { try pki.server(pki.serverSettings(ciphers: "NO-SUCH-CIPHER")) }
        // A good context after a bad one works, and its handshake reports no stale errors.
        let (client, server) = try connectedPair(
            client: TLSContext.client(ClientTLSSettings(caFile: pki.caCert)), server: pki.server())
        XCTAssertTrue(client.handshakeComplete && server.handshakeComplete)
    }
}
