import PosternProtocol

/// A front-end machine that answers from a script, for the session's handling of `.yield` and of the
/// close reasons (the real machines are tested in PosternProtocolTests).
struct ScriptedFrontEnd: FrontEndMachine {
    /// Shared with the test, which fills it and reads what the session did.
    final class Script {
        var onReceive: [[FrontEndAction]] = []
        var onResume: [[FrontEndAction]] = []
        var closeReason: FrontEndCloseReason?
        private(set) var resumes = 0
        private(set) var outcomes: [LoginOutcome] = []

        func nextReceive() -> [FrontEndAction] { onReceive.isEmpty ? [] : onReceive.removeFirst() }

        func nextResume() -> [FrontEndAction] {
            resumes += 1
            return onResume.isEmpty ? [] : onResume.removeFirst()
        }

        func finished(_ outcome: LoginOutcome) { outcomes.append(outcome) }
    }

    let script: Script

    mutating func greeting() -> [UInt8] { Array("* OK scripted\r\n".utf8) }
    mutating func receive(_ bytes: [UInt8]) -> [FrontEndAction] { script.nextReceive() }
    mutating func tlsEstablished() -> [FrontEndAction] { [] }

    mutating func loginFinished(_ outcome: LoginOutcome) -> [FrontEndAction] {
        script.finished(outcome)
        return []
    }

    func timeoutMessage() -> [UInt8] { Array("* BYE timeout\r\n".utf8) }
    func shutdownMessage() -> [UInt8] { Array("* BYE shutdown\r\n".utf8) }
    mutating func resume() -> [FrontEndAction] { script.nextResume() }
    var closeReason: FrontEndCloseReason? { script.closeReason }
}
