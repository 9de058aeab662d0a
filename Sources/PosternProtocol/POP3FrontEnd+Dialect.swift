extension POP3FrontEnd {
    /// POP3's part of the front-end engine: `+OK`/`-ERR` lines, CAPA, USER and PASS, the AUTH listing, QUIT.
    struct Dialect: FrontEndDialect {
        static let wording = FrontEndWording(
            startTLSCommand: "STLS", loginTimeout: "Disconnected: login timeout",
            shuttingDown: "Disconnected: server shutting down", encryptionNeeded: "[AUTH]",
            authenticationFailed: "[AUTH]", unavailable: "[SYS/TEMP]", farewellAfterRefusal: false)

        var reader: LineReader
        /// The name given with USER, waiting for PASS.
        private var pendingUser: String?

        init(reader: LineReader) { self.reader = reader }

        static func capabilities(_ options: FrontEndOptions) -> [String] {
            var caps = ["TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING"]
            if options.passwordLoginAllowed { caps.append("USER") }
            let mechanisms = options.advertisedMechanisms
            if !mechanisms.isEmpty { caps.append("SASL " + mechanisms.map(\.rawValue).joined(separator: " ")) }
            if options.starttlsOffered && !options.tlsActive { caps.append("STLS") }
            caps.append("IMPLEMENTATION Postern")
            return caps
        }

        func greeting(options: FrontEndOptions) -> [UInt8] { replyLine("+OK", "Postern ready.") }

        static func reply(_ status: FrontEndStatus, tag: String?, code: String?, _ text: String) -> [UInt8] {
            replyLine(status == .ok ? "+OK" : "-ERR", code, text.isEmpty ? nil : text)
        }

        static func farewell(_ text: String) -> [UInt8] { replyLine("-ERR", text) }
        mutating func discardPlaintextState() { pendingUser = nil }

        mutating func nextCommand() -> FrontEndInput<[UInt8]>? { nextLine() }
        mutating func nextResponse() -> FrontEndInput<[UInt8]>? { nextLine() }

        private mutating func nextLine() -> FrontEndInput<[UInt8]>? {
            switch reader.next() {
            case nil: return nil
            case .line(let line): return .item(line)
            case .tooLong: return .tooLong(tag: nil)
            }
        }

        mutating func handle(_ line: [UInt8], options: FrontEndOptions) -> FrontEndVerdict {
            let space = line.firstIndex(of: 32)
            let keyword = String(decoding: line[..<(space ?? line.count)], as: UTF8.self).uppercased()
            let argument = space.map { Array(line[($0 + 1)...]) }
            if keyword != "PASS" && keyword != "USER" { pendingUser = nil }
            switch keyword {
            case "CAPA":
                guard argument == nil else { return .bad("CAPA takes no arguments") }
                let list = Self.capabilities(options).map { $0 + "\r\n" }.joined()
                return .reply(Array("+OK Capability list follows\r\n\(list).\r\n".utf8))
            case "QUIT":
                return .logout(replyLine("+OK", "Logging out."))
            case "NOOP":
                return .bad("NOOP is only valid after login")
            case "STLS":
                return .startTLS(hasArguments: argument != nil)
            case "USER":
                return user(argument, options: options)
            case "PASS":
                return pass(argument)
            case "AUTH":
                return authenticate(argument, options: options)
            default:
                return .bad("Unknown command or not valid before login")
            }
        }

        private mutating func user(_ argument: [UInt8]?, options: FrontEndOptions) -> FrontEndVerdict {
            pendingUser = nil
            if let refusal = FrontEndVerdict.passwordLoginRefusal(options, command: "USER") { return refusal }
            guard let argument, !argument.isEmpty, let name = SASL.validUser(argument[...]) else {
                return .bad("USER expects a user name")
            }
            pendingUser = name
            return .reply(replyLine("+OK"))
        }

        private mutating func pass(_ argument: [UInt8]?) -> FrontEndVerdict {
            guard let user = pendingUser else { return .bad("No user name given; send USER first") }
            pendingUser = nil
            // The password is the rest of the line, spaces included (RFC 1939 leaves it to the server).
            guard let argument, let password = String(validating: argument, as: UTF8.self), !password.contains("\0")
            else { return .bad("PASS expects a password") }
            return .login(LoginRequest(credentials: Credentials(user: user, password: password), mechanism: .login))
        }

        private func authenticate(_ argument: [UInt8]?, options: FrontEndOptions) -> FrontEndVerdict {
            guard let argument else {
                // RFC 1734's listing form, still used by some clients.
                let list = options.advertisedMechanisms.map { $0.rawValue + "\r\n" }.joined()
                return .reply(Array("+OK\r\n\(list).\r\n".utf8))
            }
            let words = argument.split(separator: 32, omittingEmptySubsequences: false)
            guard words.count == 1 || words.count == 2, !words[0].isEmpty else {
                return .bad("AUTH expects a mechanism and an optional initial response")
            }
            let name = String(decoding: words[0], as: UTF8.self)
            guard words.count == 2 else { return .authenticate(mechanism: name, initial: .none) }
            return .authenticate(
                mechanism: name, initial: .response(SASLServerExchange.decodeInitialResponse(Array(words[1]))))
        }
    }
}
