/// AUTHENTICATE for every protocol: the mechanism check, the initial response, challenges and the outcome.
extension FrontEndEngine {
    mutating func authenticate(_ tag: String?, mechanism name: String, initial: FrontEndInitialResponse)
        -> [FrontEndAction]
    {
        guard let mechanism = options.mechanism(named: name) else {
            return [.send(Dialect.reply(.no, tag: tag, code: nil, "Unsupported authentication mechanism."))]
        }
        guard options.loginAllowed else {
            let text = "Authentication is disabled; use \(wording.startTLSCommand) first."
            return [.send(Dialect.reply(.no, tag: tag, code: wording.encryptionNeeded, text))]
        }
        var exchange = SASLServerExchange(mechanism: mechanism)
        switch initial {
        case .none:
            let step = exchange.start(initialResponse: nil)
            return saslStep(tag, exchange, step)
        case .invalid(let reason):
            return bad(tag, reason)
        case .response(let response):
            return saslResponse(tag, exchange, response, isInitial: true)
        }
    }

    /// The client's answer to a challenge (or its initial response); the exchange ends unless it goes on.
    mutating func saslResponse(
        _ tag: String?, _ exchange: SASLServerExchange, _ response: SASLServerExchange.Response,
        isInitial: Bool = false
    ) -> [FrontEndAction] {
        phase = .ready
        var exchange = exchange
        switch response {
        case .cancelled where !isInitial:
            return [.send(Dialect.reply(.bad, tag: tag, code: nil, wording.saslCancelled + "."))]
        case .cancelled, .invalidBase64:
            return bad(tag, wording.invalidBase64)
        case .data(let data):
            let step = isInitial ? exchange.start(initialResponse: data) : exchange.next(data)
            return saslStep(tag, exchange, step)
        }
    }

    private mutating func saslStep(_ tag: String?, _ exchange: SASLServerExchange, _ step: SASLServerExchange.Step)
        -> [FrontEndAction]
    {
        switch step {
        case .challenge(let challenge):
            phase = .authenticating(tag: tag, exchange: exchange)
            return [.send(Dialect.challenge(challenge))]
        case .malformed(let reason):
            phase = .ready
            return invalid(Dialect.reply(.no, tag: tag, code: wording.authenticationFailed, reason + "."))
        case .done(let request):
            phase = .loggingIn(tag: tag)
            return [.login(request)]
        }
    }
}
