extension IMAPFrontEnd {
    /// IMAP's part of the front-end engine: tagged replies and untagged BYE, CAPABILITY, NOOP, LOGOUT, ID,
    /// LOGIN and ENABLE (refused before login).
    struct Dialect: FrontEndDialect {
        static let wording = FrontEndWording(
            lineTooLong: "Command line too long", saslResponseTooLong: "AUTHENTICATE response too long",
            saslCancelled: "AUTHENTICATE cancelled", invalidBase64: "Invalid base64",
            encryptionNeeded: "[PRIVACYREQUIRED]", authenticationFailed: "[AUTHENTICATIONFAILED]",
            unavailable: "[UNAVAILABLE]", cannot: "[CANNOT]")

        var reader: IMAPCommandReader
        var clientID: [(String, String?)] = []

        func capabilities(_ options: FrontEndOptions) -> String {
            var caps = ["IMAP4rev1", "SASL-IR", "LITERAL+", "ID"]
            if options.starttlsOffered && !options.tlsActive { caps.append("STARTTLS") }
            caps += options.advertisedMechanisms.map { "AUTH=\($0.rawValue)" }
            if !options.passwordLoginAllowed { caps.append("LOGINDISABLED") }
            return caps.joined(separator: " ")
        }

        func greeting(options: FrontEndOptions) -> [UInt8] {
            Self.tagged(nil, "OK [CAPABILITY \(capabilities(options))] Postern ready.")
        }

        static func reply(_ status: FrontEndStatus, tag: String?, code: String?, _ text: String) -> [UInt8] {
            let word: String
            switch status {
            case .ok: word = "OK"
            case .no: word = "NO"
            case .bad: word = "BAD"
            }
            return replyLine(tag ?? "*", word, code, text)
        }

        static func tagged(_ tag: String?, _ text: String) -> [UInt8] { replyLine(tag ?? "*", text) }
        static func farewell(_ text: String) -> [UInt8] { replyLine("*", "BYE", text) }
        func tag(of command: IMAPCommand) -> String? { command.tag }
        mutating func discardPlaintextState() { clientID = [] }

        mutating func nextCommand() -> FrontEndInput<IMAPCommand>? {
            switch reader.next() {
            case nil: return nil
            case .command(let command): return .item(command)
            case .continuationNeeded: return .send(replyLine("+", "Ready for literal data"))
            case .tooLong(let tag): return .tooLong(tag: tag)
            case .bad(let tag, let reason): return .bad(tag: tag, reason: reason)
            case .unrecoverable(let tag, let reason): return .unrecoverable(tag: tag, reason: reason)
            }
        }

        mutating func nextResponse() -> FrontEndInput<[UInt8]>? {
            switch reader.nextLine() {
            case nil: return nil
            case .line(let line): return .item(line)
            case .tooLong: return .tooLong(tag: nil)
            }
        }

        mutating func handle(_ command: IMAPCommand, options: FrontEndOptions) -> FrontEndVerdict {
            let tag = command.tag
            let args = command.arguments
            switch command.name {
            case "CAPABILITY":
                guard args.isEmpty else { return .bad("CAPABILITY takes no arguments") }
                return .reply(
                    replyLine("*", "CAPABILITY", capabilities(options)) + Self.tagged(tag, "OK CAPABILITY completed."))
            case "NOOP":
                guard args.isEmpty else { return .bad("NOOP takes no arguments") }
                return .reply(Self.tagged(tag, "OK NOOP completed."))
            case "LOGOUT":
                return .logout(Self.farewell("Logging out.") + Self.tagged(tag, "OK LOGOUT completed."))
            case "ENABLE":
                return .reply(Self.tagged(tag, "BAD ENABLE is only valid after login."))
            case "ID":
                return identify(tag, args)
            case "STARTTLS":
                return .startTLS(hasArguments: !args.isEmpty)
            case "LOGIN":
                return login(args, options: options)
            case "AUTHENTICATE":
                guard args.count == 1 || args.count == 2, case .atom(let name) = args[0] else {
                    return .bad("AUTHENTICATE expects a mechanism")
                }
                guard args.count == 2 else { return .authenticate(mechanism: name, initial: .none) }
                guard let initial = args[1].astring else {
                    return .authenticate(mechanism: name, initial: .invalid("Invalid initial response"))
                }
                return .authenticate(
                    mechanism: name, initial: .response(SASLServerExchange.decodeInitialResponse(initial)))
            default:
                return .bad("Unknown command or not valid before login")
            }
        }

        private func login(_ args: [IMAPArgument], options: FrontEndOptions) -> FrontEndVerdict {
            guard args.count == 2, let user = args[0].astring, let password = args[1].astring else {
                return .bad("LOGIN expects a user name and a password")
            }
            if let refusal = FrontEndVerdict.passwordLoginRefusal(options, command: "LOGIN") { return refusal }
            guard let userText = String(validating: user, as: UTF8.self),
                let passwordText = String(validating: password, as: UTF8.self)
            else { return .bad("LOGIN arguments must be UTF-8") }
            guard !userText.isEmpty else { return .bad("LOGIN user name is empty") }
            return .login(
                LoginRequest(credentials: Credentials(user: userText, password: passwordText), mechanism: .login))
        }

        /// ID (RFC 2971): the client's field-value pairs are kept; the answer is `* ID NIL`.
        private mutating func identify(_ tag: String, _ args: [IMAPArgument]) -> FrontEndVerdict {
            guard args.count == 1 else { return .bad("ID expects one argument") }
            switch args[0] {
            case .atom(let text) where text.uppercased() == "NIL":
                clientID = []
            case .list(let items):
                guard items.count % 2 == 0, items.count <= 60 else { return .bad("ID expects field-value pairs") }
                var pairs: [(String, String?)] = []
                var index = 0
                while index < items.count {
                    guard case .string(let key) = items[index] else { return .bad("ID field names are strings") }
                    let value: String?
                    switch items[index + 1] {
                    case .string(let bytes): value = String(decoding: bytes, as: UTF8.self)
                    case .atom(let text) where text.uppercased() == "NIL": value = nil
                    default: return .bad("ID values are strings or NIL")
                    }
                    pairs.append((String(decoding: key, as: UTF8.self), value))
                    index += 2
                }
                clientID = pairs
            default:
                return .bad("ID expects a list or NIL")
            }
            return .reply(replyLine("*", "ID", "NIL") + Self.tagged(tag, "OK ID completed."))
        }
    }
}
