import PosternTLS
import XCTest

/// Every connection that agreed on a cipher suite reports it with the same shared string, not a copy of its
/// own (a session keeps its `TLSSessionInfo` for its whole life).
final class TLSNameTableTests: XCTestCase {
    func testConnectionsShareTheirCipherName() throws {
        let pki = try TestPKI.get()
        let clientContext = try TLSContext.client(ClientTLSSettings(caFile: pki.caCert))
        let serverContext = try pki.server()
        let first = try XCTUnwrap(try connectedPair(client: clientContext, server: serverContext).1.sessionInfo)
        let second = try XCTUnwrap(try connectedPair(client: clientContext, server: serverContext).1.sessionInfo)
        XCTAssertEqual(first.cipher, second.cipher)
        XCTAssertGreaterThan(first.cipher.utf8.count, 15, "too long for a string stored inline")
        var one = first.cipher
        var other = second.cipher
        let a = one.withUTF8 { UInt(bitPattern: $0.baseAddress) }
        let b = other.withUTF8 { UInt(bitPattern: $0.baseAddress) }
        XCTAssertEqual(a, b, "one storage for both")
    }
}
