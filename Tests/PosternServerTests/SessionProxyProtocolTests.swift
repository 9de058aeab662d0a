import PosternConfig
import PosternIO
import PosternProtocol
import XCTest

@testable import PosternServer

/// The PROXY protocol in front of a listener: the header is required from `accept_from`, within its own
/// deadline, and everything else is refused without a word; the header's client is the session's client.
final class SessionProxyProtocolTests: XCTestCase {
    /// A listener that takes PROXY headers from `networks` (the harness client is 192.0.2.7).
    private func harness(
        _ networks: [String] = ["192.0.2.0/24"], tls: ListenerTLSMode = .none,
        backend: (inout BackendEndpointConfig) -> Void = { _ in }
    ) throws -> SessionHarness {
        try SessionHarness(
            tls: tls,
            listener: { listener in
                listener.proxyProtocol = ProxyProtocolConfig(acceptFrom: NetworkSet(parsing: networks)!)
                backend(&listener.backend)
            })
    }

    private let v1Header = "PROXY TCP4 203.0.113.9 198.51.100.20 40000 143\r\n"

    func testNothingIsWrittenBeforeTheHeaderAndItsClientIsUsedEverywhere() throws {
        let h = try harness()
        h.start()
        XCTAssertEqual(h.clientText, "", "no greeting before the header")
        h.send(v1Header)
        XCTAssertTrue(h.clientText.hasPrefix("* OK [CAPABILITY"), h.clientText)
        h.run {
            XCTAssertEqual(h.session.identity.host, "203.0.113.9")
            XCTAssertEqual(h.session.identity.client?.port, 40000)
            XCTAssertEqual(h.session.identity.local?.description, "198.51.100.20:143")
            XCTAssertEqual(h.session.identity.proxy?.description, "192.0.2.7:50000")
        }
        h.loginAlice()
        h.waitUntil("the lookup") { h.map.isWaiting(for: "alice") }
        XCTAssertEqual(h.map.clientIP(of: "alice"), "203.0.113.9", "{client_ip} is the header's client")
        h.run { h.session.shutdown() }
        XCTAssertEqual(h.logs.sessionLine?.metadata["client"], "203.0.113.9:40000")
    }

    func testAHeaderInPiecesAndTheClientDataAfterIt() throws {
        let h = try harness()
        h.start()
        let v2 = try ProxyHeaderEncoder.v2(
            .tcp(
                source: ProxyEndpoint(text: "2001:db8::9", port: 40001)!,
                destination: ProxyEndpoint(text: "2001:db8::1", port: 143)!))
        h.run { h.client.receive(Array(v2.prefix(10))) }
        h.run { h.client.receive(Array(v2.dropFirst(10).prefix(8))) }
        XCTAssertEqual(h.clientText, "")
        h.run { h.client.receive(Array(v2.dropFirst(18)) + Array("a CAPABILITY\r\n".utf8)) }
        XCTAssertTrue(h.clientText.contains("a OK"), "the pipelined command was answered: \(h.clientText)")
        XCTAssertEqual(h.run { h.session.identity.logText }, "[2001:db8::9]:40001")
    }

    func testNoHeaderWithinTheDeadlineIsRefusedSilently() throws {
        let h = try harness()
        h.start()
        h.send("PROXY TCP4 203.0.113.9")
        h.advance(ProxyHeaderReader.timeout - 0.5)
        XCTAssertNil(h.outcome, "still within the deadline")
        h.advance(1)
        XCTAssertEqual(h.outcome, .proxyRefused)
        h.run {
            XCTAssertEqual(h.client.written, [])
            XCTAssertTrue(h.client.isClosed)
        }
        XCTAssertEqual(h.logs.sessionLine?.metadata["outcome"], "proxy-refused")
        XCTAssertTrue(h.logs.sessionLine?.metadata["detail"]?.hasPrefix("header-timeout") ?? false)
    }

    func testGarbageIsRefusedAtOnce() throws {
        let h = try harness()
        h.start()
        h.send("a LOGIN alice secret\r\n")
        XCTAssertEqual(h.outcome, .proxyRefused)
        XCTAssertEqual(h.clientText, "")
        XCTAssertTrue(h.logs.sessionLine?.metadata["detail"]?.hasPrefix("invalid-header") ?? false)
        XCTAssertTrue(h.map.asked.isEmpty)
    }

    func testAnOverlongV2HeaderIsRefusedBeforeItsBody() throws {
        let h = try harness()
        h.start()
        // Signature, PROXY over TCP4, and a length of 60000 bytes.
        h.run { h.client.receive(ProxyHeaderParser.v2Signature + [0x21, 0x11, 0xEA, 0x60]) }
        XCTAssertEqual(h.outcome, .proxyRefused)
    }

    func testAConnectionFromAnUnlistedNetworkIsRefusedWithAHeaderOrWithout() throws {
        let h = try harness(["10.0.0.0/8"])
        h.start()
        XCTAssertEqual(h.outcome, .proxyRefused, "refused before it sends anything")
        h.run {
            XCTAssertEqual(h.client.written, [])
            XCTAssertTrue(h.client.isClosed)
        }
        XCTAssertTrue(h.logs.sessionLine?.metadata["detail"]?.hasPrefix("untrusted-source") ?? false)
        XCTAssertEqual(h.logs.sessionLine?.metadata["client"], "192.0.2.7:50000")
    }

    func testLocalKeepsTheSocketsAddresses() throws {
        let h = try harness()
        h.start()
        h.run { h.client.receive(try! ProxyHeaderEncoder.v2(.local)) }
        XCTAssertTrue(h.clientText.hasPrefix("* OK"))
        h.run {
            XCTAssertEqual(h.session.identity.logText, "192.0.2.7:50000")
            XCTAssertNil(h.session.identity.proxy)
        }
    }

    func testImplicitTLSGetsTheBytesThatCameWithTheHeader() throws {
        let h = try harness(tls: .implicit)
        h.start()
        XCTAssertEqual(h.run { h.client.tlsStarts.count }, 0, "no handshake before the header")
        let hello: [UInt8] = [0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5]
        h.run { h.client.receive(Array(v1Header.utf8) + hello) }
        h.run {
            XCTAssertEqual(h.client.tlsReplays, [hello])
            XCTAssertEqual(h.client.written, [])
        }
    }

    func testShutdownWhileWaitingForTheHeaderWritesNothing() throws {
        let h = try harness()
        h.start()
        h.run { h.session.shutdown() }
        XCTAssertEqual(h.outcome, .shutdown)
        XCTAssertEqual(h.clientText, "")
    }

    func testTheLoginDeadlineStillAppliesAfterTheHeader() throws {
        let h = try harness()
        h.start()
        h.send(v1Header)
        h.advance(ProxyHeaderReader.timeout + 1)
        XCTAssertNil(h.outcome, "the header deadline is over once the header came")
        h.advance(61)
        XCTAssertEqual(h.outcome, .loginTimeout)
    }
}
