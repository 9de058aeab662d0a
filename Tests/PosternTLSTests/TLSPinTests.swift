import Foundation
import PosternTLS
import XCTest

/// TLSA-style pins checked with OpenSSL's DANE code, without DNS.
final class TLSPinTests: XCTestCase {
    private func handshake(
        pins: [TLSAPin], verify: Bool, caFile: String? = nil, name: String = "localhost", sendChain: Bool = false
    ) throws -> HandshakeOutcome {
        let pki = try TestPKI.get()
        var serverSettings = pki.serverSettings()
        if sendChain { serverSettings.certificateChainPath = try pki.serverChain() }
        var settings = ClientTLSSettings(caFile: caFile, verify: verify)
        settings.pins = pins
        let context = try TLSContext.client(settings)
        XCTAssertTrue(context.verifiesPeer)
        return runHandshake(
            client: try TLSEngine(context: context, serverName: name),
            server: try TLSEngine(context: TLSContext.server(serverSettings)))
    }

    private func endEntityPin(_ data: [UInt8]? = nil) throws -> TLSAPin {
        let pki = try TestPKI.get()
        let digest = try data ?? TestPKI.digest(certificate: pki.serverCert, selector: 1)
        return TLSAPin(usage: 3, selector: 1, matchingType: 1, data: digest)
    }

    private func trustAnchorPin(_ certificate: String) throws -> TLSAPin {
        TLSAPin(usage: 2, selector: 0, matchingType: 1, data: try TestPKI.digest(certificate: certificate, selector: 0))
    }

    func testMatchingEndEntityPinPassesWithoutACA() throws {
        let outcome = try handshake(pins: [endEntityPin()], verify: false)
        XCTAssertTrue(outcome.succeeded, outcome.errors)
    }

    func testMatchingEndEntityPinPassesEvenWithAWrongCAAndName() throws {
        let pki = try TestPKI.get()
        // Usage 3 is the whole authentication: neither the CA nor the name is checked.
        let outcome = try handshake(pins: [endEntityPin()], verify: true, caFile: pki.otherCACert, name: "other.name")
        XCTAssertTrue(outcome.succeeded, outcome.errors)
    }

    func testWholeCertificatePinMatchesToo() throws {
        let pki = try TestPKI.get()
        let pin = TLSAPin(
            usage: 3, selector: 0, matchingType: 1, data: try TestPKI.digest(certificate: pki.serverCert, selector: 0))
        XCTAssertTrue(try handshake(pins: [pin], verify: false).succeeded)
    }

    func testWrongEndEntityPinFailsNamingTheDANEError() throws {
        var data = try TestPKI.digest(certificate: try TestPKI.get().serverCert, selector: 1)
        data[0] ^= 0xFF
        let outcome = try handshake(pins: [endEntityPin(data)], verify: false)
        let message = try XCTUnwrap(outcome.clientError).message
        XCTAssertTrue(message.contains("certificate verification failed"), message)
        XCTAssertTrue(message.lowercased().contains("no matching dane tlsa records"), message)
    }

    func testAnyOfSeveralPinsMayMatch() throws {
        var data = try TestPKI.digest(certificate: try TestPKI.get().serverCert, selector: 1)
        data[0] ^= 0xFF
        XCTAssertTrue(try handshake(pins: [endEntityPin(data), endEntityPin()], verify: false).succeeded)
    }

    func testTrustAnchorPinPassesWithoutACAFile() throws {
        let pki = try TestPKI.get()
        for name in ["localhost", "127.0.0.1"] {
            // A digest of the anchor matches only when the server sends the anchor in its chain (RFC 7671).
            let outcome = try handshake(pins: [trustAnchorPin(pki.caCert)], verify: false, name: name, sendChain: true)
            XCTAssertTrue(outcome.succeeded, "\(name): \(outcome.errors)")
        }
        let leafOnly = try handshake(pins: [trustAnchorPin(pki.caCert)], verify: false)
        XCTAssertFalse(leafOnly.succeeded, "the anchor is not in a leaf-only chain")
    }

    func testFullTrustAnchorCertificateNeedsNoChain() throws {
        let pki = try TestPKI.get()
        let pin = TLSAPin(usage: 2, selector: 0, matchingType: 0, data: try TestPKI.der(certificate: pki.caCert))
        let outcome = try handshake(pins: [pin], verify: false)
        XCTAssertTrue(outcome.succeeded, outcome.errors)
        let other = TLSAPin(usage: 2, selector: 0, matchingType: 0, data: try TestPKI.der(certificate: pki.otherCACert))
        XCTAssertFalse(try handshake(pins: [other], verify: false).succeeded)
    }

    func testTrustAnchorPinStillChecksTheName() throws {
        let pki = try TestPKI.get()
        for name in ["other.test", "127.0.0.2"] {
            let outcome = try handshake(pins: [trustAnchorPin(pki.caCert)], verify: false, name: name, sendChain: true)
            let message = try XCTUnwrap(outcome.clientError, name).message
            XCTAssertTrue(message.contains("mismatch"), message)
        }
    }

    func testWrongTrustAnchorPinFails() throws {
        let pki = try TestPKI.get()
        let outcome = try handshake(pins: [trustAnchorPin(pki.otherCACert)], verify: false, sendChain: true)
        let message = try XCTUnwrap(outcome.clientError).message
        XCTAssertTrue(message.contains("certificate verification failed"), message)
    }

    func testPKIXUsagesNeedVerification() throws {
        let pin = TLSAPin(usage: 1, selector: 1, matchingType: 1, data: try endEntityPin().data)
        var settings = ClientTLSSettings(verify: false)
        settings.pins = [pin]
        let message = try XCTUnwrap(tlsError { try TLSContext.client(settings) }).message
        XCTAssertTrue(message.contains("verify: false"), message)
        // With verification the PKIX-EE pin adds to the CA check.
        let pki = try TestPKI.get()
        XCTAssertTrue(try handshake(pins: [pin], verify: true, caFile: pki.caCert).succeeded)
        XCTAssertFalse(try handshake(pins: [pin], verify: true, caFile: pki.otherCACert).succeeded)
    }

    func testMalformedPinsAreRefused() throws {
        for pin in [
            TLSAPin(usage: 4, selector: 1, matchingType: 1, data: [UInt8](repeating: 0, count: 32)),
            TLSAPin(usage: 3, selector: 1, matchingType: 1, data: [1, 2, 3]),
            TLSAPin(usage: 3, selector: 1, matchingType: 2, data: [UInt8](repeating: 0, count: 32)),
        ] {
            var settings = ClientTLSSettings(verify: false)
            settings.pins = [pin]
            XCTAssertNotNil(tlsError { try TLSContext.client(settings) }, "\(pin)")
        }
        XCTAssertEqual(
            TLSAPin(usage: 3, selector: 1, matchingType: 1, data: [0x0A, 0xFF]).description, "3 1 1 0aff")
    }

    func testPinsNeedAServerName() throws {
        var settings = ClientTLSSettings(verify: false)
        settings.pins = [try endEntityPin()]
        let context = try TLSContext.client(settings)
        XCTAssertNotNil(tlsError { try TLSEngine(context: context, serverName: nil) })
    }
}
