import PosternMap
import PosternProtocol

/// The checks a login passes before it is routed, and what its backends are told about the client.
extension Session {
    /// Why the login names of `credentials` cannot be routed, if they cannot: the one check of every login
    /// path (IMAP LOGIN, AUTHENTICATE PLAIN with authcid and authzid, SASL LOGIN, POP3 USER, token mechanisms).
    static func loginNameProblem(_ credentials: Credentials) -> LoginNameError? {
        LoginName.validate(credentials.user) ?? LoginName.validateOptional(credentials.authzid)
    }

    /// Refuses a login before routing when its name is unusable or the proxy TTL ran out; true when it did.
    /// The client gets the protocol's failed-login answer and nothing is routed.
    func refusedBeforeRouting(_ request: LoginRequest) -> Bool {
        let name = request.credentials.routingKey
        if let problem = Session.loginNameProblem(request.credentials) {
            log.user = Session.printable(name)
            logger.info(
                "login name refused",
                metadata: ["session": "\(id)", "user": "\(log.user ?? "")", "reason": "\(problem)"])
            context.stats.login(result: .unknownUser)
            var attempt = LoginAttempt(generation: generation, request: request, startedAt: context.clock.now())
            attempt.releaseCredentials()
            loginFailed(
                DialFailure(outcome: .unknownUser, result: .unknownUser, reason: nil, label: nil), attempt: attempt)
            perform(frontEnd.loginFinished(.unknownUser))
            return true
        }
        if listener.backend.forwardClient, ForwardedClient.nextTTL(clientTTL: clientProxyTTL) == nil {
            log.user = name
            logger.warning(
                "login refused: x-proxy-ttl ran out (proxy loop?)", metadata: ["session": "\(id)", "user": "\(name)"])
            context.stats.login(result: .unavailable)
            perform(frontEnd.loginFinished(.unavailable(reason: "Proxy loop detected.")))
            return true
        }
        return false
    }

    /// A refused name as the log may show it: control characters as `\u{HH}`, at most `LoginName.maxBytes`
    /// characters (the log handler may not escape them, and a CR LF must not start a forged line).
    static func printable(_ name: String) -> String {
        var out = ""
        for scalar in name.unicodeScalars.prefix(LoginName.maxBytes) {
            if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar == "\\" {
                out += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// The client's own pre-login `ID` fields (IMAP only).
    var clientIDFields: [IDParameter] {
        (frontEnd as? IMAPFrontEnd)?.clientID.map { IDParameter($0.0, $0.1) } ?? []
    }

    /// The `x-proxy-ttl` the client sent in its `ID`, if any.
    var clientProxyTTL: String? {
        clientIDFields.last { $0.name.lowercased() == "x-proxy-ttl" }?.value ?? nil
    }

    /// The PROXY header and the forwarded client for this listener's backends.
    func outbound() -> BackendOutbound {
        var outbound = BackendOutbound(proxyHeader: identity.proxyHeader(listener.backend.sendProxy))
        if listener.backend.forwardClient, let ttl = ForwardedClient.nextTTL(clientTTL: clientProxyTTL) {
            outbound.forwarded = identity.forwarded(ttl: ttl, clientID: clientIDFields)
        }
        return outbound
    }

    /// A route the map refused (`map.allowed_backends`): answered like an unknown user, logged with the reason.
    /// A route the map refused (`allowed_backends`, an unsafe substitution): answered like an unknown user,
    /// and as late (held like every answer given without a backend).
    func routeRefused(_ refused: RouteRefused, attempt: LoginAttempt) {
        logger.warning(
            "route refused",
            metadata: ["session": "\(id)", "user": "\(attempt.routingKey)", "reason": "\(refused.refusal)"])
        answerWithoutBackend(
            DialFailure(outcome: .unknownUser, result: .unknownUser, reason: nil, label: nil), attempt: attempt)
    }
}
