import Foundation

/// Translates a `perdition.conf` (and the map it points to) into an equivalent Postern YAML config.
///
/// Whatever cannot be carried over is written as a comment next to where it would go. The LDAP bind
/// password (`x-bindpw=`) is never written into the YAML: it goes into a separate secret file.
public struct PerditionImporter {
    /// The result: the YAML text, and the bind password for the secret file, if the URL had one.
    public struct Output: Sendable {
        public var yaml: String
        public var secret: String?
        /// The options that were not carried over, one line each (also in the YAML as comments).
        public var notCarried: [String]
    }

    public let confPath: String
    public let conf: PerditionConf
    /// Name of the password file the YAML refers to (written by the caller next to the YAML).
    public let secretFileName: String

    public init(confPath: String, text: String, secretFileName: String = "ldap.secret") {
        self.confPath = confPath
        self.conf = PerditionConf(text: text)
        self.secretFileName = secretFileName
    }

    /// Options this importer understands (everything else is reported as not carried over).
    static let handled: Set<String> = [
        "protocol", "bind_address", "listen_port", "outgoing_port", "outgoing_server", "map_library",
        "map_library_opt", "domain_delimiter", "strip_domain", "lower_case", "username_from_database", "timeout",
        "authenticate_timeout", "connection_limit", "ssl_mode", "ssl_cert_file", "ssl_key_file", "ssl_ca_file",
        "ssl_ca_chain_file", "ssl_no_cert_verify", "ssl_no_cn_verify", "config_file", "add_domain",
        "client_server_specification", "lookup_domain", "query_key", "debug", "quiet",
    ]

    /// Perdition options that exist only for its process model or logging; Postern has its own.
    static let irrelevant: [String: String] = [
        "debug": "use server.log_level: debug", "quiet": "use server.log_level: warning",
        "log_facility": "Postern logs to stderr", "username": "run Postern under the user you want",
        "group": "run Postern under the group you want", "inetd_mode": "Postern runs as a daemon only",
        "no_bind_banner": "Postern's greeting does not name the host", "connection_logging": "see log_level",
        "server_ok_line": "Postern always answers with the backend's own reply",
        "no_lookup": "Postern does not reverse-resolve clients",
    ]

    func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        let base = URL(fileURLWithPath: confPath).deletingLastPathComponent()
        return base.appendingPathComponent(path).standardizedFileURL.path
    }

    /// A YAML double-quoted string holding exactly `text`.
    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default: appendPrintable(scalar, to: &out)
            }
        }
        return out + "\""
    }

    /// `text` with every character YAML refuses or reads as a line break written as a YAML escape (`\x7f`,
    /// `\u2028`): a comment cannot end early or break the file, and inside double quotes the value is kept.
    static func printable(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars { appendPrintable(scalar, to: &out) }
        return out
    }

    /// C0 controls (tab, CR and LF included), DEL, C1 controls (NEL included), the line and paragraph
    /// separators, the byte order mark and the non-characters U+FFFE and U+FFFF are escaped.
    private static func appendPrintable(_ scalar: Unicode.Scalar, to out: inout String) {
        switch scalar.value {
        case 0..<0x20, 0x7F...0x9F: out += String(format: "\\x%02x", scalar.value)
        case 0x2028, 0x2029, 0xFEFF, 0xFFFE, 0xFFFF: out += String(format: "\\u%04x", scalar.value)
        default: out.unicodeScalars.append(scalar)
        }
    }

    /// A port as the config takes it unquoted: 1 to 5 decimal digits (the loader checks the range).
    static func isPort(_ text: String) -> Bool {
        (1...5).contains(text.utf8.count) && text.utf8.allSatisfy { (0x30...0x39).contains($0) }
    }

    /// An LDAP attribute name as a YAML value: bare when it is a plain name (a letter, then letters, digits,
    /// `-`, `;` options) that YAML reads as a string, quoted otherwise.
    static func attribute(_ name: String) -> String {
        let letter = { (byte: UInt8) in (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) }
        let plain =
            name.utf8.first.map(letter) ?? false
            && name.utf8.allSatisfy { letter($0) || (0x30...0x39).contains($0) || $0 == 0x2D || $0 == 0x3B }
            && !yamlWords.contains(name.lowercased())
        return plain ? name : quote(name)
    }

    /// Plain words YAML 1.1 reads as booleans or null.
    private static let yamlWords: Set<String> = ["y", "n", "yes", "no", "on", "off", "true", "false", "null"]

    /// States of `strip_domain` / `lower_case`: which stages they cover.
    static func stages(_ value: String?) -> (lookup: Bool, login: Bool, other: [String]) {
        guard let value else { return (false, false, []) }
        var lookup = false
        var login = false
        var other: [String] = []
        for state in value.split(separator: ",").map({ String($0).trimmed }) {
            switch state {
            case "all":
                lookup = true
                login = true
            case "servername_lookup": lookup = true
            case "remote_login": login = true
            default: other.append(state)
            }
        }
        return (lookup, login, other)
    }

    public func convert() -> Output {
        var notes: [String] = []
        var secret: String? = nil
        var out: [String] = [
            "# Generated by `postern import-perdition` from \(confPath).",
            "# Check it with `postern check-config -c FILE`; ask it with `postern lookup -c FILE USER`.",
            "# Perdition options that could not be carried over are comments starting with 'NOT CARRIED OVER'.",
            "",
            "server:",
            "  log_level: \(conf.has("debug") ? "debug" : conf.has("quiet") ? "warning" : "info")",
            "",
        ]
        // Listener.
        let protocolName = (conf.value("protocol") ?? "POP3").uppercased()
        let isIMAP = protocolName.hasPrefix("IMAP")
        let implicitProtocol = protocolName.hasSuffix("S")
        let sslModes = Set((conf.value("ssl_mode") ?? "").split(separator: ",").map { String($0).trimmed })
        var listenTLS = "none"
        if implicitProtocol || sslModes.contains("ssl_listen") || sslModes.contains("ssl_all") {
            listenTLS = "implicit"
        } else if sslModes.contains("tls_listen") || sslModes.contains("tls_all") {
            listenTLS = "starttls"
        }
        var backendTLS = "none"
        if sslModes.contains("ssl_outgoing") || sslModes.contains("ssl_all") {
            backendTLS = "implicit"
        } else if sslModes.contains("tls_outgoing") || sslModes.contains("tls_all") {
            backendTLS = "starttls"
        }
        let defaultListenPort = isIMAP ? (listenTLS == "implicit" ? 993 : 143) : (listenTLS == "implicit" ? 995 : 110)
        let defaultBackendPort =
            isIMAP ? (backendTLS == "implicit" ? 993 : 143) : (backendTLS == "implicit" ? 995 : 110)
        let bind = conf.value("bind_address") ?? "0.0.0.0"
        let bindShown = bind.contains(":") ? "[\(bind)]" : bind
        let listenPort = conf.value("listen_port") ?? "\(defaultListenPort)"
        let backendPort = conf.value("outgoing_port") ?? "\(defaultBackendPort)"
        // Anything but digits is quoted: the loader then says it is not a port, and nothing is injected.
        let backendPortValue = Self.isPort(backendPort) ? backendPort : Self.quote(backendPort)
        out += [
            "listeners:",
            "  - name: \(isIMAP ? "imap" : "pop3")\(listenTLS == "implicit" ? "s" : "")",
            "    protocol: \(isIMAP ? "imap" : "pop3")          # perdition protocol \(protocolName)",
            "    listen: [\(Self.quote("\(bindShown):\(listenPort)"))]",
            "    tls: \(listenTLS)",
            "    backend: { port: \(backendPortValue), tls: \(backendTLS) }",
        ]
        if sslModes.contains("none") || sslModes.isEmpty {
        } else {
            out.append("    # perdition ssl_mode \(sslModes.sorted().joined(separator: ","))")
        }
        out.append("")
        if listenTLS != "none" {
            out += [
                "tls:",
                "  certificate: \(Self.quote(absolute(conf.value("ssl_cert_file") ?? "/etc/perdition/perdition.crt.pem")))",
                "  key: \(Self.quote(absolute(conf.value("ssl_key_file") ?? "/etc/perdition/perdition.key.pem")))",
                "",
            ]
        }
        if backendTLS != "none" {
            out.append("backend_tls:")
            if let ca = conf.value("ssl_ca_file") { out.append("  ca_file: \(Self.quote(absolute(ca)))") }
            let verify = !(conf.has("ssl_no_cert_verify") || conf.has("ssl_no_cn_verify"))
            out.append("  verify: \(verify)")
            out.append("")
        }
        // Map.
        out.append("map:")
        let library = conf.value("map_library") ?? "/usr/lib/libperditiondb_gdbm.so"
        let option = conf.value("map_library_opt")
        var ldapURL: PerditionLDAPURL? = nil
        if library.isEmpty {
            out.append("  # perdition map_library \"\": no map; only the outgoing servers are used")
        } else if library.contains("posix_regex") {
            let path = absolute(option ?? "/etc/perdition/popmap.re")
            out += [
                "  # perdition map_library \(library) (popmap.re: POSIX regex rules, $1.. back-references)",
                "  regex: \(Self.quote(path))",
                "  # Perdition 2.2 takes the first matching rule, in file order, as Postern does.",
                "  regex_match: first",
            ]
        } else if library.contains("ldap") {
            let text = option ?? PerditionLDAPURL.perditionDefault
            if let url = PerditionLDAPURL.parse(text) {
                ldapURL = url
                out += ldapBlock(url, notes: &notes)
                if url.bindPassword != nil { secret = url.bindPassword }
            } else {
                let note = "map_library_opt is not an LDAP URL Postern understands"
                notes.append(note)
                out.append("  # NOT CARRIED OVER: \(note)")
            }
        } else if library.contains("gdbm") || library.contains("bdb") || library.contains("cdb") {
            let dbPath = absolute(option ?? "/etc/perdition/popmap.db")
            let textPath = dbPath.hasSuffix(".db") ? String(dbPath.dropLast(3)) : dbPath
            if FileManager.default.fileExists(atPath: textPath), textPath != dbPath {
                out += [
                    "  # perdition map_library \(library) reads \(dbPath), built from the text popmap below",
                    "  file: \(Self.quote(textPath))",
                ]
            } else {
                let note =
                    "map_library \(library) with \(dbPath): a binary database; give Postern its text popmap "
                    + "(`user: host` lines) as map.file"
                notes.append(note)
                out.append("  # NOT CARRIED OVER: \(note)")
            }
        } else {
            let note = "map_library \(library): this kind of map (SQL, NIS, daemon) has no Postern equivalent yet"
            notes.append(note)
            out.append("  # NOT CARRIED OVER: \(note)")
        }
        if let servers = conf.value("outgoing_server") {
            let list = servers.split(whereSeparator: { $0 == "," || $0 == " " }).map { Self.quote(String($0)) }
            out.append("  # perdition outgoing_server: for users the map does not know")
            out.append("  default: [\(list.joined(separator: ", "))]")
        }
        out += usernameBlock(ldapURL: ldapURL, notes: &notes)
        out.append("")
        // Limits.
        var limits: [String] = []
        if let timeout = conf.value("timeout"), let seconds = Int(timeout) {
            if seconds > 0 {
                limits.append("  idle_timeout: \(seconds)")
            } else {
                limits.append("  # perdition timeout 0 (none): Postern keeps its default idle_timeout")
            }
        }
        if let timeout = conf.value("authenticate_timeout"), let seconds = Int(timeout), seconds > 0 {
            limits.append("  login_timeout: \(seconds)")
        }
        if let limit = conf.value("connection_limit"), let count = Int(limit), count > 0 {
            limits.append("  max_sessions: \(count)")
        }
        if !limits.isEmpty { out += ["limits:"] + limits + [""] }
        // Everything else.
        var rest: [String] = []
        for option in conf.options where !Self.handled.contains(option.key) || Self.irrelevant[option.key] != nil {
            if option.key == "debug" || option.key == "quiet" { continue }
            if let why = Self.irrelevant[option.key] {
                rest.append("#   \(option.key) (line \(option.line)): \(why)")
            } else {
                let value = option.value.isEmpty ? "" : " \(option.value)"
                rest.append("#   \(option.key)\(value) (line \(option.line))")
            }
            notes.append("\(option.key) (line \(option.line))")
        }
        if !rest.isEmpty {
            out.append("# NOT CARRIED OVER: these perdition.conf options have no Postern equivalent:")
            out += rest
        }
        // Every line in one piece: conf values in comments cannot add lines or characters YAML refuses.
        return Output(
            yaml: out.map(Self.printable).joined(separator: "\n") + "\n", secret: secret,
            notCarried: notes.map(Self.printable))
    }

    func ldapBlock(_ url: PerditionLDAPURL, notes: inout [String]) -> [String] {
        var out = ["  # perdition map_library_opt: an LDAP URL; every user value is now RFC 4515-escaped"]
        let uri = "\(url.scheme)://\(url.hostPort.isEmpty ? "localhost" : url.hostPort)"
        out.append("  ldap:")
        out.append("    uri: [\(Self.quote(uri))]")
        if let name = url.bindName {
            out.append("    bind_dn: \(Self.quote(name))")
            if url.bindPassword != nil {
                out.append(
                    "    password_file: \(Self.quote(secretFileName))   # the URL's x-bindpw, kept out of the YAML")
            }
        }
        out.append("    base: \(Self.quote(url.base))")
        let scope = ["base": "base", "one": "one", "sub": "sub", "": "base"][url.scope] ?? "base"
        out.append("    scope: \(scope)")
        var filter = url.filter.isEmpty ? "(objectClass=*)" : url.filter
        // %s, and %Ns (a width Perdition pads with blanks), stand for the user.
        if let regex = try? NSRegularExpression(pattern: "%[0-9]*s") {
            filter = regex.stringByReplacingMatches(
                in: filter, range: NSRange(filter.startIndex..., in: filter), withTemplate: "{user}")
        }
        out.append("    filter: \(Self.quote(filter))")
        let attributes = url.attributes
        switch attributes.count {
        case 0:
            notes.append("the LDAP URL names no attributes; Postern assumes mailHost")
            out.append("    # NOT CARRIED OVER: the URL names no attributes; mailHost is assumed")
        case 1:
            out.append("    host_attribute: \(Self.attribute(attributes[0]))")
            out.append("    port_attribute: \"\"")
        case 2:
            out.append("    user_attribute: \(Self.attribute(attributes[0]))")
            out.append("    host_attribute: \(Self.attribute(attributes[1]))")
            out.append("    port_attribute: \"\"")
        default:
            out.append("    user_attribute: \(Self.attribute(attributes[0]))")
            out.append("    host_attribute: \(Self.attribute(attributes[1]))")
            out.append("    port_attribute: \(Self.attribute(attributes[2]))")
            if attributes.count > 3 {
                notes.append("LDAP attributes after the third (\(attributes[3...].joined(separator: ",")))")
                out.append("    # NOT CARRIED OVER: attributes after the third")
            }
        }
        out.append("    timeout: 10                   # Perdition's network timeout")
        if !url.otherExtensions.isEmpty {
            let names = url.otherExtensions.joined(separator: ", ")
            notes.append("LDAP URL extensions \(names)")
            out.append("    # NOT CARRIED OVER: LDAP URL extensions \(names)")
        }
        return out
    }

    func usernameBlock(ldapURL: PerditionLDAPURL?, notes: inout [String]) -> [String] {
        var out = ["  username:"]
        if let delimiter = conf.value("domain_delimiter") {
            out.append("    domain_delimiter: \(Self.quote(delimiter))")
        }
        let strip = Self.stages(conf.value("strip_domain"))
        let lower = Self.stages(conf.value("lower_case"))
        for (name, covered) in [("lookup", (strip.lookup, lower.lookup)), ("login", (strip.login, lower.login))] {
            guard covered.0 || covered.1 else { continue }
            var items: [String] = []
            if covered.0 { items.append("strip_domain: true") }
            if covered.1 { items.append("lower_case: all") }
            out.append("    \(name): { \(items.joined(separator: ", ")) }")
        }
        for state in strip.other + lower.other {
            notes.append("strip_domain/lower_case state \(state)")
            out.append("    # NOT CARRIED OVER: state \(state) (Postern has the lookup and login stages)")
        }
        // Perdition uses a user name from the map only with username_from_database.
        let fromMap = conf.has("username_from_database")
        out.append(
            "    from_map: \(fromMap)"
                + (fromMap ? "   # perdition username_from_database" : "   # perdition without username_from_database"))
        if let value = conf.value("add_domain") {
            notes.append("add_domain \(value)")
            out.append("    # NOT CARRIED OVER: add_domain \(value) (by the address connected to); see default_domain")
        }
        if conf.has("client_server_specification") {
            notes.append("client_server_specification")
            out.append("    # NOT CARRIED OVER: client_server_specification (clients choosing their server) is refused")
        }
        if conf.has("lookup_domain") {
            notes.append("lookup_domain")
            out.append("    # NOT CARRIED OVER: lookup_domain; write '*@domain host' lines in a map file instead")
        }
        if let key = conf.value("query_key") {
            notes.append("query_key \(key)")
            out.append("    # NOT CARRIED OVER: query_key \(key); see key_template ({user} {local} {domain})")
        }
        return out
    }
}
