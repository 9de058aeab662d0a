/// A parsed `perdition.conf`: `key value` lines with Perdition's quoting, keys normalised to long names.
public struct PerditionConf: Sendable, Equatable {
    /// One option as written, with its line.
    public struct Option: Sendable, Equatable {
        public var key: String
        public var value: String
        public var line: Int
    }

    public var options: [Option] = []

    /// Short option letters and the long names they stand for (perdition -h).
    static let shortNames: [String: String] = [
        "A": "add_domain", "a": "authenticate_in", "B": "no_bind_banner", "b": "bind_address",
        "C": "connection_logging", "c": "client_server_specification", "D": "domain_delimiter", "d": "debug",
        "F": "log_facility", "f": "config_file", "g": "group", "h": "help", "I": "capability", "i": "inetd_mode",
        "L": "connection_limit", "l": "listen_port", "M": "map_library", "m": "map_library_opt", "n": "no_lookup",
        "o": "server_ok_line", "P": "protocol", "p": "outgoing_port", "q": "quiet", "S": "strip_domain",
        "s": "outgoing_server", "t": "timeout", "u": "username", "U": "username_from_database",
    ]

    public init(options: [Option]) { self.options = options }

    /// Parses the text: `#` comments, `\` escapes and line continuations, single and double quotes.
    public init(text: String) {
        var logical: [(text: String, line: Int)] = []
        var current = ""
        var startLine = 1
        var lineNumber = 0
        for raw in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNumber += 1
            if current.isEmpty { startLine = lineNumber }
            var line = String(raw)
            if line.hasSuffix("\r") { line.removeLast() }
            if line.hasSuffix("\\") && !line.hasSuffix("\\\\") {
                current += line.dropLast()
                continue
            }
            current += line
            logical.append((current, startLine))
            current = ""
        }
        if !current.isEmpty { logical.append((current, startLine)) }
        for (line, number) in logical {
            let words = Self.words(line)
            guard let first = words.first else { continue }
            let key = Self.shortNames[first] ?? first
            options.append(Option(key: key, value: words.dropFirst().joined(separator: " "), line: number))
        }
    }

    /// Splits a line into words: blanks separate, `#` ends the line, `\x` is x, quotes keep text together.
    static func words(_ line: String) -> [String] {
        var words: [String] = []
        var word = ""
        var inWord = false
        var quote: Character? = nil
        var escaped = false
        for character in line {
            if escaped {
                word.append(character)
                escaped = false
                inWord = true
                continue
            }
            if let open = quote {
                if character == open {
                    quote = nil
                } else if character == "\\" && open == "\"" {
                    escaped = true
                } else {
                    word.append(character)
                }
                continue
            }
            switch character {
            case "\\":
                escaped = true
            case "'", "\"":
                quote = character
                inWord = true
            case "#":
                if inWord { words.append(word) }
                return words
            case " ", "\t":
                if inWord { words.append(word) }
                word = ""
                inWord = false
            default:
                word.append(character)
                inWord = true
            }
        }
        if inWord { words.append(word) }
        return words
    }

    /// The last value given for `key` (later lines override earlier ones, as in Perdition).
    public func value(_ key: String) -> String? {
        options.last { $0.key == key }?.value
    }

    /// Whether a flag option is present.
    public func has(_ key: String) -> Bool {
        options.contains { $0.key == key }
    }
}

/// A Perdition LDAP URL: `ldap://host[:port]/base?attributes?scope?filter?extensions`.
public struct PerditionLDAPURL: Sendable, Equatable {
    public var scheme: String
    public var hostPort: String
    public var base: String
    public var attributes: [String]
    public var scope: String
    /// The filter with `%s` (Perdition's user placeholder) as written.
    public var filter: String
    public var bindName: String?
    public var bindPassword: String?
    public var otherExtensions: [String]

    /// Perdition's built-in default when `map_library_opt` is not given.
    public static let perditionDefault =
        "ldap://localhost/ou=mailbox,dc=nodomain?username,mailhost,port?one?(uid=%s)"

    public static func parse(_ text: String) -> PerditionLDAPURL? {
        let lower = text.lowercased()
        guard let scheme = ["ldap://", "ldaps://"].first(where: { lower.hasPrefix($0) }) else { return nil }
        let rest = text.dropFirst(scheme.count)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let hostPort = String(rest[..<slash])
        let parts =
            slash == rest.endIndex
            ? []
            : rest[rest.index(after: slash)...].split(separator: "?", omittingEmptySubsequences: false).map(String.init)
        func part(_ index: Int) -> String { index < parts.count ? percentDecode(parts[index]) : "" }
        var url = PerditionLDAPURL(
            scheme: String(scheme.dropLast(3)), hostPort: percentDecode(hostPort), base: part(0),
            attributes: part(1).split(separator: ",").map { String($0).trimmed },
            scope: part(2).lowercased(), filter: part(3), bindName: nil, bindPassword: nil, otherExtensions: [])
        if parts.count > 4 {
            for ext in parts[4].split(separator: ",") {
                var item = String(ext)
                if item.hasPrefix("!") { item.removeFirst() }
                let pieces = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                    .map(String.init)
                // A lone `!` or an extension without a type (`=x`) carries nothing.
                guard let type = pieces.first, !type.isEmpty else { continue }
                let name = type.lowercased()
                let value = pieces.count > 1 ? percentDecode(pieces[1]) : ""
                switch name {
                case "bindname": url.bindName = value
                case "x-bindpw": url.bindPassword = value
                default: url.otherExtensions.append(pieces[0])
                }
            }
        }
        return url
    }

    static func percentDecode(_ text: String) -> String {
        var bytes: [UInt8] = []
        let utf8 = Array(text.utf8)
        var index = 0
        while index < utf8.count {
            if utf8[index] == UInt8(ascii: "%"), index + 2 < utf8.count,
                let value = UInt8(String(decoding: utf8[(index + 1)...(index + 2)], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                index += 3
            } else {
                bytes.append(utf8[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension String {
    var trimmed: String {
        String(drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}
