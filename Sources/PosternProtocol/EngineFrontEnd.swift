/// A public front end that is the engine with its protocol's dialect: the machine's calls go to the engine.
protocol EngineFrontEnd: FrontEndMachine {
    associatedtype Dialect: FrontEndDialect
    var engine: FrontEndEngine<Dialect> { get set }
}

extension EngineFrontEnd {
    public mutating func greeting() -> [UInt8] { engine.greeting() }
    public mutating func receive(_ bytes: [UInt8]) -> [FrontEndAction] { engine.receive(bytes) }
    public mutating func tlsEstablished() -> [FrontEndAction] { engine.tlsEstablished() }
    public mutating func loginFinished(_ outcome: LoginOutcome) -> [FrontEndAction] { engine.loginFinished(outcome) }
    public mutating func resume() -> [FrontEndAction] { engine.resume() }
    public func timeoutMessage() -> [UInt8] { engine.farewell(Dialect.wording.loginTimeout) }
    public func shutdownMessage() -> [UInt8] { engine.farewell(Dialect.wording.shuttingDown) }
    public var closeReason: FrontEndCloseReason? { engine.closeReason }
}
