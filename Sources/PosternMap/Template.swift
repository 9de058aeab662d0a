/// The values a lookup key template or an LDAP filter template can use.
public struct TemplateValues: Sendable, Equatable {
    public var user: String
    public var local: String
    public var domain: String
    public var clientIP: String

    public init(user: String, local: String, domain: String, clientIP: String) {
        self.user = user
        self.local = local
        self.domain = domain
        self.clientIP = clientIP
    }

    /// Splits `user` at the last `delimiter` into local part and domain.
    public init(user: String, delimiter: String, clientIP: String?) {
        let (local, domain) = UsernamePolicy.split(user, delimiter: delimiter)
        self.init(user: user, local: local, domain: domain ?? "", clientIP: clientIP ?? "")
    }

    func value(_ name: Substring) -> String? {
        switch name {
        case "user": return user
        case "local": return local
        case "domain": return domain
        case "client_ip": return clientIP
        default: return nil
        }
    }
}

/// `{user}`, `{local}`, `{domain}` and `{client_ip}` templates.
public enum Template {
    /// Replaces every known `{name}` with its value passed through `escape`; anything else is kept as written.
    public static func expand(
        _ template: String, _ values: TemplateValues, escape: (String) -> String = { $0 }
    ) -> String {
        var out = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            out += rest[..<open]
            if let close = rest[open...].firstIndex(of: "}"),
                let value = values.value(rest[rest.index(after: open)..<close])
            {
                out += escape(value)
                rest = rest[rest.index(after: close)...]
            } else {
                out.append("{")
                rest = rest[rest.index(after: open)...]
            }
        }
        out += rest
        return out
    }

    /// Whether the template uses `{name}`.
    public static func uses(_ template: String, _ name: String) -> Bool {
        template.contains("{\(name)}")
    }
}

/// RFC 4515 escaping of an assertion value in an LDAP search filter.
public enum LDAPFilter {
    /// Escapes `*`, `(`, `)`, `\`, NUL, and every byte outside printable ASCII as `\XX` (two hex digits),
    /// so that a value can never change the structure of the filter it is put into.
    public static func escape(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        let hex: [Character] = Array("0123456789abcdef")
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "*"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "\\"), 0, 0x7f...0xff,
                0x01...0x1f:
                out.append("\\")
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0f)])
            default:
                out.append(Character(Unicode.Scalar(byte)))
            }
        }
        return out
    }

    /// A filter from a template, every value escaped.
    public static func build(_ template: String, _ values: TemplateValues) -> String {
        Template.expand(template, values, escape: escape)
    }
}
