import Foundation
import PosternTLS
import XCTest

/// Backend verification against a folder of hashed CA certificates (`ca_path`).
final class TLSCAFolderTests: XCTestCase {
    /// A folder holding `certificates`, hashed with `openssl rehash`.
    private func hashedFolder(_ name: String, _ certificates: [String]) throws -> String {
        let folder = TestPKI.directory + "/" + name
        try? FileManager.default.removeItem(atPath: folder)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (index, certificate) in certificates.enumerated() {
            try FileManager.default.copyItem(atPath: certificate, toPath: folder + "/ca\(index).pem")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl", "rehash", folder]
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        return folder
    }

    private func outcome(caPath: String) throws -> HandshakeOutcome {
        let pki = try TestPKI.get()
        var settings = ClientTLSSettings()
        settings.caPath = caPath
        return runHandshake(
            client: try TLSEngine(context: TLSContext.client(settings), serverName: "localhost"),
            server: try TLSEngine(context: pki.server()))
    }

    func testFolderWithTheCAVerifies() throws {
        let pki = try TestPKI.get()
        let result = try outcome(caPath: try hashedFolder("cas-good", [pki.otherCACert, pki.caCert]))
        XCTAssertTrue(result.succeeded, result.errors)
    }

    func testFolderWithoutTheCAFails() throws {
        let pki = try TestPKI.get()
        let result = try outcome(caPath: try hashedFolder("cas-bad", [pki.otherCACert]))
        let message = try XCTUnwrap(result.clientError).message
        XCTAssertTrue(message.contains("unable to get local issuer certificate"), message)
    }
}
