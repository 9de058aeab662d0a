// Map values (`[user@]host[:port]`, several), the address syntax under them, and the address parsers beside
// it (IP addresses, CIDRs, allowed_backends patterns): a parsed value never yields a backend host that holds
// a separator or a control character, and what is parsed prints back to text that parses to the same.
//
// Input: the text (invalid UTF-8 is replaced).
import FuzzSupport
import PosternConfig
import PosternMap

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMapValue(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let text = input.remainderText()
    checkMapValue(text)
    for portRequired in [false, true] {
        for bareIPv6 in [false, true] { checkAddress(text, portRequired: portRequired, bareIPv6: bareIPv6) }
    }
    checkNetworks(text)
    return 0
}

private func checkMapValue(_ text: String) {
    guard case .success(let value) = MapValue.parse(text) else { return }
    fuzzCheck(!value.servers.isEmpty, "a map value without servers")
    for server in value.servers {
        checkBackendHost(server.host)
        fuzzCheck(server.port.map { (1...65535).contains($0) } ?? true, "port \(server.port ?? 0)")
        fuzzCheck(BackendAddress.parse(server.description) == server, "'\(server)' does not parse back")
    }
    if let user = value.backendUser {
        fuzzCheck(!user.isEmpty, "empty backend user")
        fuzzCheck(!user.contains { $0 == "," || $0 == " " || $0 == "\t" }, "separator in backend user '\(user)'")
    }
    // The servers printed and joined are the same list again.
    let printed = value.servers.map(\.description).joined(separator: ",")
    guard case .success(let again) = MapValue.parse(printed) else {
        fuzzCheck(false, "printed servers '\(printed)' do not parse")
        return
    }
    fuzzCheck(again.servers == value.servers && again.backendUser == nil, "printed servers parse differently")
}

/// A backend host is a host name or IPv4 address (labels of letters, digits, `-`, `_`), or an IPv6 literal
/// (hex digits, `:`, `.`, and a `%zone` of name characters): never a server separator, `@`, a bracket, a
/// blank or a control character.
private func checkBackendHost(_ host: String) {
    fuzzCheck(!host.isEmpty, "empty backend host")
    let name: (Unicode.Scalar) -> Bool = { $0.properties.isASCIIHexDigit || isNameCharacter($0) }
    if host.contains(":") {
        let parts = host.split(separator: "%", maxSplits: 1, omittingEmptySubsequences: false)
        fuzzCheck(AddressSyntax.isIPv6(host), "host '\(host)' with ':' is not IPv6")
        fuzzCheck(
            parts[0].unicodeScalars.allSatisfy { $0.properties.isASCIIHexDigit || $0 == ":" || $0 == "." },
            "IPv6 host '\(host)'")
        if parts.count == 2 {
            fuzzCheck(
                !parts[1].isEmpty && parts[1].unicodeScalars.allSatisfy(isNameCharacter),
                "zone of host '\(host.debugDescription)'")
        }
    } else {
        fuzzCheck(host.unicodeScalars.allSatisfy { name($0) || $0 == "." }, "host '\(host.debugDescription)'")
    }
}

private func isNameCharacter(_ scalar: Unicode.Scalar) -> Bool {
    scalar.isASCII
        && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "-_.".unicodeScalars.contains(scalar))
}

private func checkAddress(_ text: String, portRequired: Bool, bareIPv6: Bool) {
    guard case .success(let parsed) = AddressSyntax.parse(text, portRequired: portRequired, bareIPv6: bareIPv6)
    else { return }
    checkBackendHost(parsed.host)
    if portRequired { fuzzCheck(parsed.port != nil, "portRequired but no port in '\(text)'") }
    fuzzCheck(parsed.port.map { (1...65535).contains($0) } ?? true, "port out of range")
    if !bareIPv6 && parsed.host.contains(":") { fuzzCheck(text.hasPrefix("["), "bare IPv6 accepted") }
    let printed =
        (parsed.host.contains(":") ? "[\(parsed.host)]" : parsed.host) + (parsed.port.map { ":\($0)" } ?? "")
    let again = AddressSyntax.parse(printed, portRequired: portRequired, bareIPv6: true)
    fuzzCheck(again == .success(parsed), "'\(printed)' parses differently from '\(text)'")
}

private func checkNetworks(_ text: String) {
    if let address = IPAddress(text) {
        fuzzCheck(address.bytes.count == 4 || address.bytes.count == 16, "address of odd length")
        fuzzCheck(IPAddress(address.description) == address, "address '\(address)' does not parse back")
    }
    if case .success(let cidr) = CIDR.parse(text) {
        fuzzCheck(cidr.contains(cidr.network), "network outside itself")
        fuzzCheck(CIDR.parse(cidr.description) == .success(cidr), "CIDR '\(cidr)' does not parse back")
    }
    if case .success(let pattern) = AllowedBackends.parsePattern(text) {
        let allowed = AllowedBackends([pattern])
        switch pattern {
        case .host(let name):
            fuzzCheck(allowed.permits(host: name), "host pattern '\(name)' refuses itself")
            fuzzCheck(allowed.permits(host: name.uppercased() + "."), "host pattern is case or dot sensitive")
        case .suffix(let suffix):
            fuzzCheck(allowed.permits(host: "a." + suffix), "suffix pattern refuses a name under it")
            fuzzCheck(!allowed.permits(host: suffix), "suffix pattern permits the suffix itself")
        case .network(let cidr):
            fuzzCheck(allowed.permits(host: cidr.network.description), "network pattern refuses its network")
        }
        fuzzCheck(AllowedBackends.parsePattern(pattern.description) == .success(pattern), "pattern round trip")
    }
}

@_cdecl("FuzzMapValue_main")
public func fuzzMapValueMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzMapValue)
}
