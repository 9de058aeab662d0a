extension SieveFrontEnd {
    /// ManageSieve's part of the front-end engine: quoted-string replies with `(CODE)`s, the capability
    /// block (again after STARTTLS), NOOP with its tag, LOGOUT, and SASL responses as strings.
    struct Dialect: FrontEndDialect {
        static let wording = FrontEndWording(encryptionNeeded: "(ENCRYPT-NEEDED)", unavailable: "(TRYLATER)")

        var reader: SieveCommandReader
        let service: SieveCapabilities

        func capabilities(_ options: FrontEndOptions) -> String {
            var lines = [
                "\"IMPLEMENTATION\" \"Postern\"",
                "\"SASL\" \(SieveText.quoted(options.advertisedMechanisms.map(\.rawValue).joined(separator: " ")))",
                "\"SIEVE\" \(SieveText.quoted(service.sieve))",
            ]
            if !service.notify.isEmpty { lines.append("\"NOTIFY\" \(SieveText.quoted(service.notify))") }
            if options.starttlsOffered && !options.tlsActive { lines.append("\"STARTTLS\"") }
            lines.append("\"VERSION\" \"1.0\"")
            return lines.map { $0 + "\r\n" }.joined()
        }

        /// The capability block closed by an OK with this text.
        private func capabilityBlock(_ options: FrontEndOptions, _ text: String) -> [UInt8] {
            Array(capabilities(options).utf8) + Self.reply(.ok, tag: nil, code: nil, text)
        }

        func greeting(options: FrontEndOptions) -> [UInt8] { capabilityBlock(options, "Postern ready.") }

        // RFC 5804 §2.2: after TLS, the capabilities again, as they are now, then OK.
        func afterTLS(options: FrontEndOptions) -> [UInt8] { capabilityBlock(options, "TLS negotiation successful.") }

        static func reply(_ status: FrontEndStatus, tag: String?, code: String?, _ text: String) -> [UInt8] {
            replyLine(status == .ok ? "OK" : "NO", code, SieveText.quoted(text))
        }

        static func farewell(_ text: String) -> [UInt8] { replyLine("BYE", SieveText.quoted(text)) }
        static func challenge(_ data: [UInt8]) -> [UInt8] { replyLine(SieveText.quoted(SASL.base64Encode(data))) }

        mutating func nextCommand() -> FrontEndInput<SieveCommand>? {
            nextLine { bytes, segments in
                switch SieveCommandReader.parseCommand(bytes: bytes, segments: segments) {
                case .success(let command): return .item(command)
                case .failure(let error): return .bad(tag: nil, reason: error.reason)
                }
            }
        }

        mutating func nextResponse() -> FrontEndInput<[UInt8]>? {
            nextLine { bytes, segments in
                guard let string = SieveCommandReader.parseString(bytes: bytes, segments: segments) else {
                    return .bad(tag: nil, reason: "Expected a SASL response string")
                }
                return .item(string)
            }
        }

        /// The next logical line, parsed by `parse`.
        private mutating func nextLine<Item>(_ parse: ([UInt8], [Range<Int>]) -> FrontEndInput<Item>)
            -> FrontEndInput<Item>?
        {
            switch reader.next() {
            case nil: return nil
            case .line(let bytes, let segments): return parse(bytes, segments)
            case .tooLong: return .tooLong(tag: nil)
            case .unrecoverable(let reason): return .unrecoverable(tag: nil, reason: reason)
            }
        }

        mutating func handle(_ command: SieveCommand, options: FrontEndOptions) -> FrontEndVerdict {
            let args = command.arguments
            switch command.name {
            case "CAPABILITY":
                guard args.isEmpty else { return .bad("CAPABILITY takes no arguments") }
                return .reply(capabilityBlock(options, "Capability completed."))
            case "NOOP":
                guard args.count <= 1 else { return .bad("NOOP takes at most one argument") }
                guard let tag = args.first else {
                    return .reply(Self.reply(.ok, tag: nil, code: nil, "NOOP completed."))
                }
                guard case .string(let text) = tag, let tagText = String(validating: text, as: UTF8.self) else {
                    return .bad("NOOP expects a string")
                }
                return .reply(Self.reply(.ok, tag: nil, code: "(TAG \(SieveText.quoted(tagText)))", "Done."))
            case "LOGOUT":
                return .logout(Self.reply(.ok, tag: nil, code: nil, "Logout completed."))
            case "STARTTLS":
                return .startTLS(hasArguments: !args.isEmpty)
            case "AUTHENTICATE":
                return authenticate(args)
            default:
                return .bad("Unknown command or not valid before login")
            }
        }

        private func authenticate(_ args: [IMAPArgument]) -> FrontEndVerdict {
            guard args.count == 1 || args.count == 2, case .string(let nameBytes) = args[0] else {
                return .bad("AUTHENTICATE expects a mechanism name as a string")
            }
            let name = String(decoding: nameBytes, as: UTF8.self)
            guard args.count == 2 else { return .authenticate(mechanism: name, initial: .none) }
            guard case .string(let initial) = args[1] else {
                return .authenticate(mechanism: name, initial: .invalid("The initial response must be a string"))
            }
            // In ManageSieve an initial response is a plain string: empty means empty, `*` is not special.
            let response = SASL.base64Decode(initial).map(SASLServerExchange.Response.data) ?? .invalidBase64
            return .authenticate(mechanism: name, initial: .response(response))
        }
    }
}
