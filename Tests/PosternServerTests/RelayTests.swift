import PosternIO
import PosternProtocol
import XCTest

@testable import PosternServer

/// The splice after login: bytes unchanged both ways, backpressure both ways, half-close, idle deadline.
final class RelayTests: XCTestCase {
    private let chunk = [UInt8](repeating: 0x61, count: SessionHarness.bufferSize)

    func testClientToBackendBackpressure() throws {
        let h = try SessionHarness()
        h.relayAlice()
        let backend = h.backend
        h.run {
            backend.holdsOutput = true
            XCTAssertFalse(h.client.isReadingPaused)
            let before = backend.written.count
            h.client.receive(Array(chunk.prefix(100)))
            XCTAssertFalse(h.client.isReadingPaused, "room left in the backend's queue")
            h.client.receive(chunk)
            XCTAssertEqual(backend.written.count - before, 100 + chunk.count, "forwarded unchanged")
            XCTAssertTrue(h.client.isReadingPaused, "the backend's queue is full: the client waits")
            backend.drain()
            XCTAssertFalse(h.client.isReadingPaused)
        }
    }

    func testBackendToClientBackpressure() throws {
        let h = try SessionHarness()
        h.relayAlice()
        let backend = h.backend
        h.run {
            h.client.holdsOutput = true
            let before = h.client.written.count
            backend.receive(chunk)
            XCTAssertEqual(h.client.written.count - before, chunk.count)
            XCTAssertTrue(backend.isReadingPaused, "the client's queue is full: the backend waits")
            XCTAssertFalse(h.client.isReadingPaused)
            h.client.drain()
            XCTAssertFalse(backend.isReadingPaused)
        }
    }

    func testTheLoginMachineIsLetGoOnceRelayed() throws {
        let h = try SessionHarness()
        h.start()
        XCTAssertTrue(h.run { h.session.frontEnd is IMAPFrontEnd })
        h.loginAlice()
        h.route("alice", to: ["a.example"])
        h.run { h.dialler.answer(0, addresses: ["192.0.2.10"]) }
        h.backendAccepts(h.backend)
        XCTAssertTrue(h.run { h.session.phaseIsRelaying })
        XCTAssertTrue(h.run { h.session.frontEnd is SplicedFrontEnd }, "the relay needs no login machine")
        let backend = h.backend
        h.run {
            let before = backend.written.count
            h.client.receive("b NOOP\r\n")
            XCTAssertEqual(backend.written.count - before, 8, "still relayed")
        }
    }

    func testPipelinedBytesAndLeftoverAreForwarded() throws {
        let h = try SessionHarness()
        h.start()
        h.send("a LOGIN alice s3cret-pw\r\nb SELECT INBOX\r\n")
        h.route("alice", to: ["a.example"])
        h.run { h.dialler.answer(0, addresses: ["192.0.2.10"]) }
        let backend = h.backend
        h.run {
            backend.connect()
            backend.receive("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] ready\r\n")
            backend.receive("P1 OK Logged in\r\n* 3 EXISTS\r\n")
        }
        XCTAssertTrue(h.run { backend.text.hasSuffix("b SELECT INBOX\r\n") }, h.run { backend.text })
        XCTAssertTrue(h.clientText.hasSuffix("a OK Logged in\r\n* 3 EXISTS\r\n"), h.clientText)
    }

    func testTheClientsEOFHalfClosesAndTheBackendsEndsTheSession() throws {
        let h = try SessionHarness()
        h.relayAlice()
        let backend = h.backend
        h.run { h.client.receiveEOF() }
        XCTAssertTrue(h.run { backend.halfClosed })
        XCTAssertNil(h.outcome)
        h.run { backend.receive("* BYE\r\n") }
        XCTAssertTrue(h.clientText.hasSuffix("* BYE\r\n"))
        h.run { backend.receiveEOF() }
        XCTAssertEqual(h.outcome, .backendClosed)
        XCTAssertTrue(h.run { h.client.finished })
        XCTAssertTrue(h.run { backend.isClosed })
    }

    func testFailuresOfEachSide() throws {
        let h = try SessionHarness()
        h.relayAlice()
        h.run { h.backend.fail(IOError(.reset, "read: Connection reset by peer")) }
        XCTAssertEqual(h.outcome, .backendError)
        let g = try SessionHarness()
        g.relayAlice()
        g.run { g.client.fail(IOError(.reset, "read: Connection reset by peer")) }
        XCTAssertEqual(g.outcome, .clientReset)
        XCTAssertTrue(g.run { g.backend.isClosed })
    }

    func testIdleTimeout() throws {
        let h = try SessionHarness(limits: { $0.idleTimeout = 100 })
        h.relayAlice()
        h.advance(90)
        h.run { h.client.receive("a NOOP\r\n") }
        h.advance(90)
        XCTAssertNil(h.outcome, "traffic moved the deadline")
        h.advance(11)
        XCTAssertEqual(h.outcome, .idleTimeout)
    }

    func testTheLogLineCountsBothSides() throws {
        let h = try SessionHarness()
        h.relayAlice()
        h.run { h.backend.receive("* BYE\r\n") }
        h.run { h.backend.receiveEOF() }
        let line = try XCTUnwrap(h.logs.sessionLine)
        XCTAssertEqual(line.metadata["outcome"], "backend-closed")
        XCTAssertEqual(line.metadata["backend"], "a.example:143")
        XCTAssertEqual(line.metadata["client"], "192.0.2.7:50000")
        XCTAssertEqual(line.metadata["backend_in"], "\(h.run { h.backend.bytesIn })")
        XCTAssertEqual(line.metadata["client_out"], "\(h.run { h.client.bytesOut })")
        XCTAssertNotEqual(line.metadata["backend_in"], "0")
    }
}
