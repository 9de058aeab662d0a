import XCTest

@testable import PosternProtocol

/// Where the three front ends used to differ, they now behave alike: STARTTLS completion, overlong lines and
/// the reason given for every close.
final class FrontEndConvergenceTests: XCTestCase {
    // MARK: tlsEstablished

    func testTLSEstablishedOutsideStartTLSIsIgnored() {
        for protocolCase in FrontEndCase.all {
            var machine = protocolCase.machine(frontEndOptions(tlsRequiredForLogin: true))
            XCTAssertEqual(machine.tlsEstablished(), [], protocolCase.name)
            XCTAssertEqual(
                machine.receive(text: protocolCase.loginBeforeTLS), [send(protocolCase.loginBeforeTLSReply)],
                "\(protocolCase.name): the connection is not taken as encrypted")
        }
    }

    func testTLSEstablishedDuringALoginIsIgnored() {
        for protocolCase in FrontEndCase.all {
            var machine = protocolCase.machine()
            XCTAssertEqual(machine.receive(text: protocolCase.login).count, 1, protocolCase.name)
            XCTAssertEqual(machine.tlsEstablished(), [], protocolCase.name)
            XCTAssertEqual(
                machine.loginFinished(.unknownUser).count, 1, "\(protocolCase.name): still waiting for the login")
        }
    }

    func testTLSEstablishedAfterStartTLSEnablesLogins() {
        for protocolCase in FrontEndCase.all {
            var machine = protocolCase.machine(frontEndOptions(tlsRequiredForLogin: true))
            XCTAssertEqual(
                machine.receive(text: protocolCase.startTLS), [send(protocolCase.startTLSReply), .startTLS],
                protocolCase.name)
            _ = machine.tlsEstablished()
            XCTAssertEqual(machine.tlsEstablished(), [], "\(protocolCase.name): only once")
            XCTAssertEqual(
                machine.receive(text: protocolCase.login), [loginAction("tim", "tanstaaftanstaaf", mechanism: .plain)],
                protocolCase.name)
        }
    }

    // MARK: Overlong lines

    func testALineOverTheBoundIsRefusedAndTheNextCommandRuns() {
        checkOverlongLine(800) { [send($0.lineTooLong + $0.cheapReply)] }
    }

    func testALineDroppedOverTwiceTheBoundEndsTheConnection() {
        checkOverlongLine(1100, closeReason: .lineTooLong) { [send($0.lineTooLong + $0.lineFarewell), .close] }
    }

    /// A line of `length` bytes, then the cheap command, on a listener with `maxLine` 512, in several chunkings.
    private func checkOverlongLine(
        _ length: Int, closeReason: FrontEndCloseReason? = nil, expected: (FrontEndCase) -> [FrontEndAction]
    ) {
        for protocolCase in FrontEndCase.all {
            for size in [1, 100, 5000] {
                var machine = protocolCase.machine(frontEndOptions(maxLine: 512))
                let wire = bytes(String(repeating: "x", count: length) + "\r\n" + protocolCase.cheap)
                XCTAssertEqual(
                    coalesced(machine.receive(wire, chunkSizes: [size])), expected(protocolCase),
                    "\(protocolCase.name), chunks of \(size)")
                XCTAssertEqual(machine.closeReason, closeReason, protocolCase.name)
            }
        }
    }

    // MARK: Close reasons

    func testEveryCloseHasItsReason() {
        for protocolCase in FrontEndCase.all {
            var open = protocolCase.machine()
            _ = open.receive(text: protocolCase.cheap)
            XCTAssertNil(open.closeReason, protocolCase.name)

            var logout = protocolCase.machine()
            XCTAssertEqual(logout.receive(text: protocolCase.logout), [send(protocolCase.logoutReply), .close])
            XCTAssertEqual(logout.closeReason, .logout, protocolCase.name)

            var failures = protocolCase.machine(frontEndOptions(maxLoginAttempts: 1))
            _ = failures.receive(text: protocolCase.login)
            XCTAssertEqual(failures.loginFinished(.unknownUser).last, .close, protocolCase.name)
            XCTAssertEqual(failures.closeReason, .tooManyLoginFailures, protocolCase.name)

            var invalid = protocolCase.machine()
            let tenth = String(repeating: protocolCase.unknownReply, count: 10)
            let farewell = protocolCase.name == "POP3" ? "" : protocolCase.farewell("Too many invalid commands.")
            XCTAssertEqual(
                invalid.receive(text: String(repeating: protocolCase.unknown, count: 10)),
                [send(tenth + farewell), .close],
                protocolCase.name)
            XCTAssertEqual(invalid.closeReason, .tooManyBadCommands, protocolCase.name)
        }
    }

    func testUnrecoverableInputIsRefusedThenTheFarewell() {
        var imap = makeFrontEnd(frontEndOptions(maxLine: 512))
        XCTAssertEqual(
            imap.receive("a LOGIN {600+}\r\n"),
            [send("a BAD Literal too large.\r\n* BYE Literal too large.\r\n"), .close])
        XCTAssertEqual(imap.closeReason, .unrecoverable)
        var sieve = FrontEndCase.sieve.machine(frontEndOptions(maxLine: 512))
        XCTAssertEqual(
            sieve.receive(text: "AUTHENTICATE \"PLAIN\" {600+}\r\n"),
            [send("NO \"Literal too large.\"\r\nBYE \"Literal too large.\"\r\n"), .close])
        XCTAssertEqual(sieve.closeReason, .unrecoverable)
    }
}
