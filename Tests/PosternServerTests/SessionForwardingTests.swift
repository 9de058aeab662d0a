import PosternConfig
import PosternIO
import PosternMap
import PosternProtocol
import PosternTLS
import XCTest

@testable import PosternServer

/// What the backend learns about the client: the PROXY header first (`send_proxy`), IMAP `ID` before the
/// login (`forward_client`) with the loop-protection TTL.
final class SessionForwardingTests: XCTestCase {
    private func harness(
        proxyIn: Bool = true, _ backend: @escaping (inout BackendEndpointConfig) -> Void
    ) throws -> SessionHarness {
        try SessionHarness(listener: { listener in
            if proxyIn { listener.proxyProtocol = ProxyProtocolConfig(acceptFrom: NetworkSet(parsing: ["192.0.2.7"])!) }
            backend(&listener.backend)
        })
    }

    /// Starts, sends the header for 203.0.113.9:40000 -> 198.51.100.20:143, logs alice in up to the connect.
    private func connectAlice(_ h: SessionHarness, proxyIn: Bool = true, before: String = "") -> FakeConnection {
        h.start()
        if proxyIn { h.send("PROXY TCP4 203.0.113.9 198.51.100.20 40000 143\r\n") }
        if !before.isEmpty { h.send(before) }
        h.loginAlice()
        h.route("alice", to: ["a.example"])
        h.run { h.dialler.answer(0, addresses: ["192.0.2.10"]) }
        let backend = h.backend
        h.run { backend.connect() }
        return backend
    }

    func testAV2HeaderGoesFirstWithTheClientsAddressesAndTheSessionID() throws {
        let h = try harness { $0.sendProxy = .v2 }
        let backend = connectAlice(h)
        let written = h.run { backend.written }
        guard case .header(let header, let consumed) = ProxyHeaderParser().parse(written) else {
            return XCTFail("no PROXY header first: \(written.prefix(40))")
        }
        XCTAssertEqual(consumed, written.count, "nothing else before the greeting")
        XCTAssertEqual(header.source?.description, "203.0.113.9:40000")
        XCTAssertEqual(header.destination?.description, "198.51.100.20:143")
        XCTAssertEqual(header.uniqueID, Array("t1".utf8))
        XCTAssertNil(header.tls, "a plaintext client has no PP2_TYPE_SSL")
        h.run { backend.receive("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] ready\r\n") }
        XCTAssertTrue(h.run { backend.text.contains("P1 AUTHENTICATE PLAIN ") }, "the login follows the header")
        h.run { backend.receive("P1 OK Logged in\r\n") }
        XCTAssertTrue(h.run { h.session.phaseIsRelaying })
    }

    func testAV1HeaderWithoutAProxyInFrontUsesTheSocketsAddresses() throws {
        let h = try harness(proxyIn: false) { $0.sendProxy = .v1 }
        let backend = connectAlice(h, proxyIn: false)
        XCTAssertEqual(h.run { backend.text }, "PROXY TCP4 192.0.2.7 198.51.100.1 50000 1143\r\n")
    }

    func testTheTLSOfTheClientGoesIntoTheV2Header() {
        var identity = ClientIdentity(
            sessionID: "k9", peer: address("192.0.2.7", 50000), local: SessionHarness.localAddress)
        identity.tlsEstablished(
            TLSSessionInfo(
                version: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384", resumed: false, serverName: "imap.example.org"))
        let bytes = identity.proxyHeader(.v2)!
        guard case .header(let header, _) = ProxyHeaderParser().parse(bytes) else { return XCTFail("not a header") }
        XCTAssertEqual(header.tls?.version, "TLSv1.3")
        XCTAssertEqual(header.tls?.cipher, "TLS_AES_256_GCM_SHA384")
        XCTAssertEqual(header.tls?.client, .ssl)
        XCTAssertEqual(header.authority, "imap.example.org")
        XCTAssertEqual(header.uniqueID, Array("k9".utf8))
    }

    func testAnSNINameWithAControlCharacterIsLeftOut() {
        var identity = ClientIdentity(
            sessionID: "k9", peer: address("192.0.2.7", 50000), local: SessionHarness.localAddress)
        identity.tlsEstablished(
            TLSSessionInfo(version: "TLSv1.3", cipher: "X", resumed: false, serverName: "evil\r\nname"))
        guard case .header(let parsed, _) = ProxyHeaderParser().parse(identity.proxyHeader(.v2)!) else {
            return XCTFail("not a header")
        }
        XCTAssertNil(parsed.authority)
        XCTAssertEqual(parsed.tls?.version, "TLSv1.3", "the other values still go")
    }

    func testForwardClientSendsIDWithTheRealClientAndTheClientsOwnFields() throws {
        let h = try harness { $0.forwardClient = true }
        let backend = connectAlice(h, before: "i ID (\"name\" \"Mailer\" \"x-originating-ip\" \"10.6.6.6\")\r\n")
        h.run { backend.receive("* OK [CAPABILITY IMAP4rev1 SASL-IR ID AUTH=PLAIN] ready\r\n") }
        XCTAssertEqual(
            h.run { backend.text },
            "P1 ID (\"name\" \"Mailer\" \"x-originating-ip\" \"203.0.113.9\" \"x-originating-port\" \"40000\" "
                + "\"x-connected-ip\" \"198.51.100.20\" \"x-connected-port\" \"143\" \"x-session-ext-id\" \"t1\" "
                + "\"x-proxy-ttl\" \"4\")\r\n")
        h.run { backend.receive("P1 OK ID completed.\r\n") }
        XCTAssertTrue(h.run { backend.text.contains("P2 AUTHENTICATE PLAIN ") })
    }

    func testTheClientsTTLIsDecrementedAndAtZeroTheLoginIsRefused() throws {
        let h = try harness { $0.forwardClient = true }
        let backend = connectAlice(h, before: "i ID (\"x-proxy-ttl\" \"3\")\r\n")
        h.run { backend.receive("* OK [CAPABILITY IMAP4rev1 SASL-IR ID AUTH=PLAIN] ready\r\n") }
        XCTAssertTrue(h.run { backend.text.contains("\"x-proxy-ttl\" \"2\")") }, h.run { backend.text })

        let looped = try harness { $0.forwardClient = true }
        looped.start()
        looped.send("PROXY TCP4 203.0.113.9 198.51.100.20 40000 143\r\n")
        looped.send("i ID (\"x-proxy-ttl\" \"1\")\r\n")
        looped.loginAlice()
        XCTAssertTrue(looped.clientText.contains("a NO [UNAVAILABLE] Proxy loop detected."), looped.clientText)
        XCTAssertTrue(looped.map.asked.isEmpty, "nothing was routed")
    }
}
