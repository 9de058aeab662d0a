// The Perdition importer: whatever perdition.conf it is given, the YAML it writes parses, has only Postern's
// top-level keys and one listener with its own keys (no value can inject a key or end a comment early), puts
// the listen address into the listener as written, and does not depend on the LDAP bind password (which
// goes to the secret file only).
//
// Input: the text of perdition.conf (invalid UTF-8 is replaced).
import FuzzSupport
import PosternImport
import Yams

private let topLevelKeys: Set<String> = ["server", "listeners", "tls", "backend_tls", "map", "limits"]
private let listenerKeys: Set<String> = ["name", "protocol", "listen", "tls", "backend"]
private let mapKeys: Set<String> = ["regex", "regex_match", "ldap", "file", "default", "username"]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPerditionImport(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let text = input.remainderText()
    _ = PerditionLDAPURL.parse(text)
    let conf = PerditionConf(text: text)
    let lineCount = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).count
    for option in conf.options {
        fuzzCheck((1...max(lineCount, 1)).contains(option.line), "option at line \(option.line) of \(lineCount)")
    }
    let output = PerditionImporter(confPath: "/etc/perdition/perdition.conf", text: text).convert()
    checkYAML(output.yaml, conf: conf)
    checkSecretIndependence(text, output: output)
    return 0
}

private func checkYAML(_ yaml: String, conf: PerditionConf) {
    let root: Node?
    do {
        root = try Yams.compose(yaml: yaml)
    } catch {
        fuzzCheck(false, "the imported YAML does not parse: \(error)\n\(yaml)")
        return
    }
    guard let mapping = root?.mapping else {
        fuzzCheck(false, "the imported YAML is not a mapping")
        return
    }
    let keys = Set(mapping.keys.compactMap(\.string))
    fuzzCheck(keys.isSubset(of: topLevelKeys) && keys.count == mapping.count, "top-level keys \(keys.sorted())")
    guard let listeners = mapping["listeners"]?.sequence, listeners.count == 1, let listener = listeners.first?.mapping
    else {
        fuzzCheck(false, "not exactly one listener")
        return
    }
    let ownKeys = Set(listener.keys.compactMap(\.string))
    fuzzCheck(ownKeys == listenerKeys && listener.count == listenerKeys.count, "listener keys \(ownKeys.sorted())")
    let bind = conf.value("bind_address") ?? "0.0.0.0"
    if let port = conf.value("listen_port") {
        let expected = (bind.contains(":") ? "[\(bind)]" : bind) + ":" + port
        fuzzCheck(listener["listen"]?.sequence?.first?.string == expected, "listen address is not '\(expected)'")
    }
    if let map = mapping["map"]?.mapping {
        let found = Set(map.keys.compactMap(\.string))
        fuzzCheck(found.isSubset(of: mapKeys) && found.count == map.count, "map keys \(found.sorted())")
    }
}

/// The YAML is the same when only the bind password (`x-bindpw=` in the LDAP URL) changes.
private func checkSecretIndependence(_ text: String, output: PerditionImporter.Output) {
    guard let secret = output.secret, let marker = text.range(of: "x-bindpw=", options: .backwards) else { return }
    let ends: Set<Character> = [",", "?", " ", "\t", "\n", "\r", "\r\n", "\"", "'", "\\", "#"]
    let end = text[marker.upperBound...].firstIndex(where: ends.contains) ?? text.endIndex
    let replacement = secret == "Zq9Zq9" ? "Yp8Yp8" : "Zq9Zq9"
    let changed = text[..<marker.upperBound] + replacement + text[end...]
    let other = PerditionImporter(confPath: "/etc/perdition/perdition.conf", text: String(changed)).convert()
    guard other.secret == replacement else { return }
    fuzzCheck(other.yaml == output.yaml, "the YAML depends on the bind password")
}

@_cdecl("FuzzPerditionImport_main")
public func fuzzPerditionImportMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>)
    -> CInt
{
    runFuzzer(argc, argv, fuzzPerditionImport)
}
