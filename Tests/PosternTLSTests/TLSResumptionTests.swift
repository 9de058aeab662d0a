import Foundation
import PosternSync
import PosternTLS
import XCTest

/// Session resumption in memory: tickets with a rotating key, the session cache, and off.
final class TLSResumptionTests: XCTestCase {
    /// A clock the test moves by hand.
    final class FakeClock: Sendable {
        let now = Mutex<Double>(1000)
        func advance(_ seconds: Double) { now.withLock { $0 += seconds } }
        var read: @Sendable () -> Double { { [self] in now.withLock { $0 } } }
    }

    private func settings(
        _ resumption: TLSResumption, context: String = "listener-a", version: TLSProtocolVersion? = nil
    ) throws -> ServerTLSSettings {
        var settings = try TestPKI.get().serverSettings(maxVersion: version)
        settings.resumption = resumption
        settings.sessionIDContext = context
        return settings
    }

    /// One full connection: handshake, then the client reads what the server sent after it (TLS 1.3 tickets).
    private func connect(
        _ server: TLSContext, session: TLSClientSession? = nil, version: TLSProtocolVersion? = nil
    ) throws -> (resumed: Bool, session: TLSClientSession?) {
        let pki = try TestPKI.get()
        let clientContext = try TLSContext.client(ClientTLSSettings(caFile: pki.caCert, maxVersion: version))
        let client = try TLSEngine(context: clientContext, serverName: "localhost", session: session)
        let serverEngine = try TLSEngine(context: server)
        let outcome = runHandshake(client: client, server: serverEngine)
        XCTAssertTrue(outcome.succeeded, outcome.errors)
        let greeting = Array("* OK ready\r\n".utf8)
        try greeting.withUnsafeBytes { try serverEngine.write($0) }
        XCTAssertEqual(try receive(greeting.count, by: client, from: serverEngine), greeting)
        let resumed = try XCTUnwrap(client.sessionInfo).resumed
        XCTAssertEqual(serverEngine.sessionInfo?.resumed, resumed, "both sides agree")
        // A clean close: OpenSSL marks the session of a connection freed without close_notify not resumable.
        let session = client.resumableSession
        client.shutdown()
        serverEngine.shutdown()
        return (resumed, session)
    }

    func testTicketsResumeInTLS13AndTLS12() throws {
        for version in [TLSProtocolVersion.tls1_3, .tls1_2] {
            let ring = TicketKeyRing(rotation: 3600, lifetime: 7200)
            let server = try TLSContext.server(settings(.tickets), ticketKeys: ring)
            let first = try connect(server, version: version)
            XCTAssertFalse(first.resumed)
            let session = try XCTUnwrap(first.session, "\(version): a ticket arrived")
            XCTAssertEqual(ring.keyCount, 1)
            let second = try connect(server, session: session, version: version)
            XCTAssertTrue(second.resumed, "\(version)")
        }
    }

    func testTicketKeyRotationKeepsOldTicketsForTheirLifetime() throws {
        let clock = FakeClock()
        let ring = TicketKeyRing(rotation: 100, lifetime: 300, clock: clock.read)
        let server = try TLSContext.server(settings(.tickets), ticketKeys: ring)
        let old = try XCTUnwrap(try connect(server).session)
        XCTAssertEqual(ring.keyCount, 1)

        clock.advance(150)  // past the rotation: a new key encrypts, the old one still decrypts
        let renewed = try connect(server, session: old)
        XCTAssertTrue(renewed.resumed, "a ticket of the previous key still resumes")
        XCTAssertEqual(ring.keyCount, 2, "a new key was made for the renewed ticket")
        let fresh = try XCTUnwrap(renewed.session)

        clock.advance(300)  // the first key is now older than rotation + lifetime
        _ = try connect(server)  // makes a third key and drops the first
        XCTAssertFalse(try connect(server, session: old).resumed, "a ticket of an expired key is refused")
        XCTAssertTrue(try connect(server, session: fresh).resumed, "the renewed ticket still works")
    }

    func testTicketsDoNotCrossListeners() throws {
        let ring = TicketKeyRing(rotation: 3600, lifetime: 7200)
        let a = try TLSContext.server(settings(.tickets, context: "listener-a"), ticketKeys: ring)
        let b = try TLSContext.server(settings(.tickets, context: "listener-b"), ticketKeys: ring)
        let session = try XCTUnwrap(try connect(a).session)
        XCTAssertFalse(try connect(b, session: session).resumed)
        XCTAssertTrue(try connect(a, session: session).resumed)
    }

    func testSessionCacheResumes() throws {
        for version in [TLSProtocolVersion.tls1_3, .tls1_2] {
            let server = try TLSContext.server(settings(.cache))
            let session = try XCTUnwrap(try connect(server, version: version).session, "\(version)")
            XCTAssertTrue(try connect(server, session: session, version: version).resumed, "\(version)")
            let other = try TLSContext.server(settings(.cache))
            XCTAssertFalse(try connect(other, session: session, version: version).resumed, "another cache")
        }
    }

    func testResumptionOff() throws {
        let server = try TLSContext.server(settings(.off))
        XCTAssertNil(try connect(server, version: .tls1_3).session, "no TLS 1.3 ticket is sent")
        XCTAssertNil(try connect(server, version: .tls1_2).session, "no TLS 1.2 ticket nor session id")
    }

    func testSharedRingsAreOnePerRotationAndLifetime() {
        let a = TicketKeyRing.shared(rotation: 1234, lifetime: 5678)
        XCTAssertTrue(a === TicketKeyRing.shared(rotation: 1234, lifetime: 5678))
        XCTAssertFalse(a === TicketKeyRing.shared(rotation: 1234, lifetime: 5679))
    }
}
