import Foundation
import Yams

/// The `map.ldap` block.
extension SchemaWalker {
    static let ldapKeys = [
        "uri", "bind_dn", "password_file", "base", "scope", "filter", "host_attribute", "port_attribute",
        "user_attribute", "timeout", "starttls", "ca_file", "verify", "pool_size",
    ]

    func readLDAP(_ node: Node, path: String, owner: Node?) -> LDAPMapConfig? {
        var ldap = LDAPMapConfig()
        guard let reader = MappingReader(node, path: path, owner: owner, known: Self.ldapKeys, collector: collector)
        else {
            return nil
        }
        if let value = reader.required("uri") {
            let items = stringList(value, path: reader.path("uri"))
            if items.isEmpty, case .sequence = value {
                collector.report(reader.path("uri"), at: value, "at least one URI is required")
            }
            for item in items {
                guard let text = collector.nonEmptyText(item.node, item.path) else { continue }
                if let problem = Self.ldapURIProblem(text) {
                    collector.report(item.path, at: item.node, problem)
                } else {
                    ldap.uris.append(text)
                }
            }
        }
        if let value = reader.optional("bind_dn"), let text = collector.nonEmptyText(value, reader.path("bind_dn")) {
            ldap.bindDN = text
        }
        if let value = reader.optional("password_file") {
            ldap.passwordFile = existingFile(value, path: reader.path("password_file"))
            if ldap.bindDN == nil {
                collector.report(reader.path("password_file"), at: value, "a password file needs a bind_dn")
            }
        }
        if let value = reader.required("base"), let text = collector.text(value, reader.path("base")) {
            ldap.base = text
        }
        if let value = reader.optional("scope"),
            let scope = collector.choice(value, reader.path("scope"), as: LDAPScope.self)
        {
            ldap.scope = scope
        }
        if let value = reader.optional("filter"), let text = collector.nonEmptyText(value, reader.path("filter")) {
            if checkTemplate(text, node: value, path: reader.path("filter")) {
                if let problem = Self.filterProblem(text) {
                    collector.report(reader.path("filter"), at: value, problem)
                } else {
                    ldap.filter = text
                }
            }
        }
        func attribute(_ key: String) -> String?? {
            guard let value = reader[key] else { return .none }
            if value.isNull { return .some(nil) }
            guard let text = collector.text(value, reader.path(key)) else { return .none }
            if text.isEmpty { return .some(nil) }
            guard Self.validAttributeName(text) else {
                collector.report(reader.path(key), at: value, "'\(text)' is not an LDAP attribute name")
                return .none
            }
            return .some(text)
        }
        if let host = attribute("host_attribute") {
            if let host {
                ldap.hostAttribute = host
            } else {
                collector.report(reader.path("host_attribute"), at: reader["host_attribute"], "must not be empty")
            }
        }
        if let port = attribute("port_attribute") { ldap.portAttribute = port }
        if let user = attribute("user_attribute") { ldap.userAttribute = user }
        if let value = reader.optional("timeout"),
            let seconds = collector.seconds(value, reader.path("timeout"), maximum: 3600)
        {
            ldap.timeout = seconds
        }
        if let value = reader.optional("starttls"), let flag = collector.boolean(value, reader.path("starttls")) {
            ldap.startTLS = flag
        }
        if let value = reader.optional("ca_file") {
            ldap.caFile = existingFile(value, path: reader.path("ca_file"))
        }
        if let value = reader.optional("verify"), let flag = collector.boolean(value, reader.path("verify")) {
            ldap.verify = flag
        }
        if let value = reader.optional("pool_size"),
            let size = collector.integer(value, reader.path("pool_size"), in: 1...64)
        {
            ldap.poolSize = size
        }
        return ldap
    }

    /// Why `text` is not an `ldap://` or `ldaps://` URI with at most a host and port; nil if it is one.
    static func ldapURIProblem(_ text: String) -> String? {
        let lower = text.lowercased()
        guard let scheme = ["ldap://", "ldaps://"].first(where: { lower.hasPrefix($0) }) else {
            return "'\(text)' is not an ldap:// or ldaps:// URI"
        }
        var rest = text.dropFirst(scheme.count)
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        if rest.contains("/") || rest.contains("?") || rest.contains(" ") {
            return "'\(text)': give only the scheme, host and port (base and filter have their own keys)"
        }
        if rest.isEmpty { return nil }
        if case .failure(let problem) = AddressSyntax.parse(String(rest), portRequired: false) {
            return "'\(text)': \(problem.message)"
        }
        return nil
    }

    /// Why a filter template is not a parenthesised LDAP filter; nil when it looks like one.
    static func filterProblem(_ text: String) -> String? {
        guard text.hasPrefix("("), text.hasSuffix(")") else {
            return "an LDAP filter is written in parentheses, e.g. (uid={user})"
        }
        var depth = 0
        var escaped = false
        for character in text {
            if escaped {
                escaped = false
                continue
            }
            switch character {
            case "\\": escaped = true
            case "(": depth += 1
            case ")":
                depth -= 1
                if depth < 0 { return "unbalanced parentheses in '\(text)'" }
            default: break
            }
        }
        return depth == 0 ? nil : "unbalanced parentheses in '\(text)'"
    }

    /// An attribute description: a name (letters, digits, '-') or a numeric OID.
    static func validAttributeName(_ text: String) -> Bool {
        guard let first = text.first else { return false }
        if first.isASCII && first.isNumber {
            return text.allSatisfy { ($0.isASCII && $0.isNumber) || $0 == "." }
        }
        return first.isASCII && first.isLetter && text.allSatisfy { $0.isASCIILetterOrDigit || $0 == "-" }
    }
}
