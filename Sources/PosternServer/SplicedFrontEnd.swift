import PosternProtocol

/// The front-end machine a session keeps once it relays: the login dialogue is over and nothing reads the
/// machine any more (the relay is the client's delegate), so the listener's machine, with its line buffer,
/// options and the client's `ID`, is let go and this empty one takes its place. Every call answers nothing.
struct SplicedFrontEnd: FrontEndMachine {
    mutating func greeting() -> [UInt8] { [] }
    mutating func receive(_ bytes: [UInt8]) -> [FrontEndAction] { [] }
    mutating func tlsEstablished() -> [FrontEndAction] { [] }
    mutating func loginFinished(_ outcome: LoginOutcome) -> [FrontEndAction] { [] }
    func timeoutMessage() -> [UInt8] { [] }
    func shutdownMessage() -> [UInt8] { [] }
    mutating func resume() -> [FrontEndAction] { [] }
    var closeReason: FrontEndCloseReason? { nil }
}
