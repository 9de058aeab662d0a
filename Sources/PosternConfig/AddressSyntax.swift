import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A host with an optional port, as split out of `host`, `host:port` or `[v6]:port`.
public struct HostPort: Equatable, Sendable {
    public var host: String
    public var port: Int?
}

/// Why an address string was rejected, in words fit for a config issue.
public struct AddressProblem: Error, Equatable, Sendable {
    public var message: String
}

/// The one parser of the address forms Postern reads (config keys and map values): `host:port`,
/// `[v6]:port` and bare `host`.
public enum AddressSyntax {
    /// Splits and checks an address. With `portRequired` false a bare host is accepted too.
    /// A bracketed IPv6 address needs its port unless `bareIPv6`, which also accepts an IPv6
    /// address without brackets (map values, where no port can follow).
    public static func parse(_ text: String, portRequired: Bool, bareIPv6: Bool = false)
        -> Result<HostPort, AddressProblem>
    {
        let expected = portRequired ? "host:port, IPv6 as [address]:port" : "host, host:port or [IPv6]:port"
        guard !text.isEmpty else { return .failure(AddressProblem(message: "empty address (expected \(expected))")) }
        let host: Substring
        let portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                return .failure(AddressProblem(message: "missing ']' in '\(text)' (expected \(expected))"))
            }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard !host.isEmpty else { return .failure(AddressProblem(message: "missing host in '\(text)'")) }
            guard isIPv6(String(host)) else {
                return .failure(AddressProblem(message: "'\(host)' in '\(text)' is not a valid IPv6 address"))
            }
            guard !rest.isEmpty else {
                if bareIPv6 && !portRequired { return .success(HostPort(host: String(host), port: nil)) }
                return .failure(AddressProblem(message: "missing port in '\(text)' (expected [address]:port)"))
            }
            guard rest.first == ":" else {
                return .failure(AddressProblem(message: "unexpected '\(rest)' after ']' in '\(text)'"))
            }
            portText = rest.dropFirst()
        } else {
            let colons = text.filter { $0 == ":" }.count
            if colons > 1 {
                if bareIPv6 && !portRequired && isIPv6(text) { return .success(HostPort(host: text, port: nil)) }
                return .failure(
                    AddressProblem(
                        message: "IPv6 addresses must be written in brackets, e.g. [::1]:1143 (got '\(text)')"))
            }
            if let colon = text.firstIndex(of: ":") {
                host = text[..<colon]
                portText = text[text.index(after: colon)...]
            } else {
                host = text[...]
                portText = nil
            }
            guard !host.isEmpty else { return .failure(AddressProblem(message: "missing host in '\(text)'")) }
            guard isHostName(host) else {
                return .failure(
                    AddressProblem(message: "invalid host name '\(host.prefix(80))' in '\(text.prefix(120))'"))
            }
        }
        guard let portText else {
            if portRequired {
                return .failure(AddressProblem(message: "missing port in '\(text)' (expected \(expected))"))
            }
            return .success(HostPort(host: String(host), port: nil))
        }
        guard portText.count <= 5, !portText.isEmpty, portText.allSatisfy(\.isASCIIDigit),
            let port = Int(portText), (1...65535).contains(port)
        else {
            let shown = portText.isEmpty ? "missing port" : "bad port '\(portText)'"
            return .failure(AddressProblem(message: "\(shown) in '\(text)' (port must be 1..65535)"))
        }
        return .success(HostPort(host: String(host), port: port))
    }

    /// Whether `text` is a literal IPv6 address, optionally with a `%zone` suffix: an interface name or
    /// index (1 to 15 ASCII letters, digits, `.`, `-`, `_`), so that a zone cannot smuggle a separator,
    /// a blank or a control character into a host.
    public static func isIPv6(_ text: String) -> Bool {
        let address = text.split(separator: "%", maxSplits: 1, omittingEmptySubsequences: false)
        guard let first = address.first else { return false }
        if address.count == 2 {
            let zone = address[1].utf8
            guard (1...maxZoneBytes).contains(zone.count), zone.allSatisfy(isZoneByte) else { return false }
        }
        // inet_pton sees a C string: text after a NUL would pass unchecked.
        guard first.utf8.allSatisfy(isAddressByte) else { return false }
        var buffer = in6_addr()
        return inet_pton(AF_INET6, String(first), &buffer) == 1
    }

    /// A byte of an address literal: hex digits, `:` and `.` (IPv4 and IPv4-mapped IPv6).
    static func isAddressByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"),
            UInt8(ascii: "A")...UInt8(ascii: "F"), UInt8(ascii: ":"), UInt8(ascii: "."):
            true
        default: false
        }
    }

    /// Longest zone: an interface name (IFNAMSIZ less its NUL) or a decimal index.
    static let maxZoneBytes = 15

    private static func isZoneByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"):
            true
        default: false
        }
    }

    /// Whether `text` is a plausible host name or IPv4 address: dot-separated labels of letters,
    /// digits, `-` and `_`, none empty (a single trailing dot is allowed), none starting with `-`, at most
    /// 63 bytes each and 253 in all (RFC 1035), so that a directory entry cannot make a host of any size.
    static func isHostName(_ text: Substring) -> Bool {
        guard text.utf8.count <= maxHostNameLength + 1 else { return false }
        var labels = text.split(separator: ".", omittingEmptySubsequences: false)
        if labels.count > 1, labels.last == "" { labels.removeLast() }
        return !labels.isEmpty
            && labels.reduce(labels.count - 1) { $0 + $1.utf8.count } <= maxHostNameLength
            && labels.allSatisfy { label in
                !label.isEmpty && label.utf8.count <= 63 && label.first != "-"
                    && label.allSatisfy { $0.isASCIILetterOrDigit || $0 == "-" || $0 == "_" }
            }
    }

    /// The longest host name accepted, without a trailing dot (RFC 1035).
    static let maxHostNameLength = 253

    /// A key under which two specs that name the same socket compare equal
    /// (host names case-insensitively, IPv6 addresses in canonical form).
    static func identity(of spec: SocketAddressSpec) -> String {
        var host = spec.host.lowercased()
        if host.contains(":") {
            var buffer = in6_addr()
            var output = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
            if inet_pton(AF_INET6, host, &buffer) == 1,
                inet_ntop(AF_INET6, &buffer, &output, socklen_t(output.count)) != nil
            {
                host = String(decoding: output.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
        }
        return "\(host)|\(spec.port)"
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
    var isASCIILetterOrDigit: Bool { isASCII && (isLetter || isNumber) }
}
