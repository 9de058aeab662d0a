import XCTest

@testable import PosternProtocol

/// The pre-login command budget and the per-call bounds, on every front end.
final class FrontEndBudgetTests: XCTestCase {
    private let budgetFarewell = "Too many commands before login."

    // MARK: Commands before login

    func testFiftyCheapCommandsAreAnsweredAndTheFiftyFirstGetsTheFarewell() {
        for protocolCase in FrontEndCase.all {
            var machine = protocolCase.machine()
            for number in 1...50 {
                XCTAssertEqual(
                    machine.receive(text: protocolCase.cheap), [send(protocolCase.cheapReply)],
                    "\(protocolCase.name) command \(number)")
            }
            XCTAssertNil(machine.closeReason)
            XCTAssertEqual(
                machine.receive(text: protocolCase.cheap), [send(protocolCase.farewell(budgetFarewell)), .close],
                protocolCase.name)
            XCTAssertEqual(machine.closeReason, .preauthBudgetExceeded, protocolCase.name)
            XCTAssertEqual(machine.receive(text: protocolCase.cheap), [], "\(protocolCase.name): nothing after close")
        }
    }

    func testTheBudgetHoldsWithinOneRead() {
        for protocolCase in FrontEndCase.all {
            var options = frontEndOptions()
            options.maxCommandsPerCall = 100
            var machine = protocolCase.machine(options)
            XCTAssertEqual(
                machine.receive(text: String(repeating: protocolCase.cheap, count: 60)),
                [
                    send(String(repeating: protocolCase.cheapReply, count: 50) + protocolCase.farewell(budgetFarewell)),
                    .close,
                ],
                protocolCase.name)
        }
    }

    func testCapabilityIDInvalidCommandsAndRefusalsCountToo() {
        var options = frontEndOptions(starttlsOffered: false)
        options.maxBadCommands = 100
        var frontEnd = makeFrontEnd(options)
        let commands = ["a CAPABILITY\r\n", "b NOOP\r\n", "c ID NIL\r\n", "d FOO\r\n", "e STARTTLS\r\n"]
        for round in 0..<10 {
            for command in commands {
                XCTAssertEqual(frontEnd.receive(command).count, 1, "round \(round): \(command) is answered")
            }
        }
        XCTAssertEqual(frontEnd.receive("f NOOP\r\n"), [send("* BYE Too many commands before login.\r\n"), .close])
    }

    func testALoginIsNotCounted() {
        for protocolCase in FrontEndCase.all {
            var machine = protocolCase.machine()
            for _ in 1...49 { _ = machine.receive(text: protocolCase.cheap) }
            XCTAssertEqual(
                machine.receive(text: protocolCase.login), [loginAction("tim", "tanstaaftanstaaf", mechanism: .plain)],
                protocolCase.name)
            _ = machine.loginFinished(.unknownUser)
            XCTAssertEqual(
                machine.receive(text: protocolCase.cheap), [send(protocolCase.cheapReply)],
                "\(protocolCase.name): the 50th command that is not a login")
            XCTAssertEqual(
                machine.receive(text: protocolCase.cheap), [send(protocolCase.farewell(budgetFarewell)), .close],
                protocolCase.name)
        }
    }

    func testOverlongLinesCountAgainstTheBudget() {
        var options = frontEndOptions(maxLine: 64)
        options.maxBadCommands = 100
        options.maxPreauthCommands = 3
        var frontEnd = makeFrontEnd(options)
        let long = String(repeating: "x", count: 100) + "\r\n"
        XCTAssertEqual(
            frontEnd.receive(long + long + long + "a NOOP\r\n"),
            [
                send(
                    String(repeating: "* BAD Command line too long.\r\n", count: 3)
                        + "* BYE Too many commands before login.\r\n"), .close,
            ])
    }

    // MARK: Per call

    func testSixtyFourKiBOfNoopsAreAnsweredThirtyTwoPerCall() {
        for protocolCase in FrontEndCase.all {
            var options = frontEndOptions()
            options.maxPreauthCommands = .max
            var machine = protocolCase.machine(options)
            let count = 65536 / 8
            let full = [send(String(repeating: protocolCase.cheapReply, count: 32)), FrontEndAction.yield]
            var actions = machine.receive(text: String(repeating: protocolCase.cheap, count: count))
            var calls = 1
            while actions == full {
                actions = machine.resume()
                calls += 1
            }
            XCTAssertEqual(actions, [send(String(repeating: protocolCase.cheapReply, count: 32))], protocolCase.name)
            XCTAssertEqual(calls, count / 32, "\(protocolCase.name): each call handled 32, the last one yields no more")
            XCTAssertEqual(machine.resume(), [], protocolCase.name)
        }
    }

    func testStartTLSStopsTheCallBeforeTheCap() {
        for protocolCase in FrontEndCase.all {
            var machine = protocolCase.machine()
            let cheap = String(repeating: protocolCase.cheap, count: 5)
            XCTAssertEqual(
                machine.receive(text: cheap + protocolCase.startTLS + cheap),
                [send(String(repeating: protocolCase.cheapReply, count: 5) + protocolCase.startTLSReply), .startTLS],
                protocolCase.name)
            XCTAssertEqual(machine.resume(), [], "\(protocolCase.name): waits for the handshake")
        }
    }

    func testALoginReadAtTheCapIsKeptForResume() {
        var frontEnd = makeFrontEnd()
        let noops = String(repeating: "a NOOP\r\n", count: 32)
        XCTAssertEqual(
            frontEnd.receive(noops + "b LOGIN alice pw\r\nc NOOP\r\n"),
            [send(String(repeating: "a OK NOOP completed.\r\n", count: 32)), .yield])
        XCTAssertEqual(
            frontEnd.receive("d NOOP\r\n"), [loginAction("alice", "pw", mechanism: .login)],
            "bytes that arrive before resume() queue behind the login")
        XCTAssertEqual(
            frontEnd.loginFinished(.success(text: "OK Logged in")),
            [send("b OK Logged in\r\n"), .relay(pipelined: bytes("c NOOP\r\nd NOOP\r\n"))])
    }

    func testALogoutAtTheCapClosesOnResume() {
        for protocolCase in FrontEndCase.all {
            var machine = protocolCase.machine()
            let actions = machine.receive(text: String(repeating: protocolCase.cheap, count: 32) + protocolCase.logout)
            XCTAssertEqual(actions.last, .yield, protocolCase.name)
            XCTAssertEqual(machine.resume(), [send(protocolCase.logoutReply), .close], protocolCase.name)
            XCTAssertEqual(machine.closeReason, .logout, protocolCase.name)
        }
    }

    func testRepliesBeforeALoginLeaveInOneSendFirst() {
        var frontEnd = makeFrontEnd()
        XCTAssertEqual(
            frontEnd.receive("a NOOP\r\nb CAPABILITY\r\nc LOGIN alice pw\r\n"),
            [
                send(
                    "a OK NOOP completed.\r\n* CAPABILITY IMAP4rev1 SASL-IR LITERAL+ ID STARTTLS AUTH=PLAIN AUTH=LOGIN\r\n"
                        + "b OK CAPABILITY completed.\r\n"),
                loginAction("alice", "pw", mechanism: .login),
            ])
    }
}
