// Regex map expansion with hostile login names: text taken from the name (`$0`...`$9`, the text before an
// unanchored match) never brings a separator or control character into the value, so the value has exactly
// the separators its rule's template has; with the fixed rules below, the expanded value also has the
// shape its rule promises (how many servers, whether a backend user, which domain).
//
// Input: one control byte. Bit 0 clear: fixed rules, the rest is the login name. Bit 0 set: rules text up
// to the first NUL, then the login name. Bit 1: match order (first or last).
import FuzzSupport
import PosternConfig

@testable import PosternMap

/// What a fixed rule promises about every value it expands to, when that value parses.
private struct Shape {
    var servers: Int
    var backendUser: Bool
    var hostSuffix: String
}

private let fixedRules: [(rule: String, shape: Shape)] = [
    (
        "^([^@]+)@example\\.org$: $1@imap1.example.org",
        Shape(servers: 1, backendUser: true, hostSuffix: "imap1.example.org")
    ),
    (
        "^(.*)@(.*)\\.example\\.net$: $2.mail.example.net:1143",
        Shape(servers: 1, backendUser: false, hostSuffix: ".mail.example.net")
    ),
    ("^user-(.*)$: $1@10.0.0.2:1143, 10.0.0.3", Shape(servers: 2, backendUser: true, hostSuffix: "")),
    (
        "([^.]*)@([^.]*)\\.(.*): $1_$2_$3@realimapserver",
        Shape(servers: 1, backendUser: true, hostSuffix: "realimapserver")
    ),
    ("b+: server-$0", Shape(servers: 1, backendUser: false, hostSuffix: "")),
    (
        "^(.)(.)(.)(.)(.)(.)(.)(.)(.)(.): $9$8$7$6$5$4$3$2$1.example.com",
        Shape(servers: 1, backendUser: false, hostSuffix: ".example.com")
    ),
    ("^[a-k]: localhost", Shape(servers: 1, backendUser: false, hostSuffix: "localhost")),
]

private let fixedText = fixedRules.map(\.rule).joined(separator: "\n") + "\n"
private let fixedFirst = try? RegexMap(text: fixedText, path: "popmap.re", matchOrder: .first)
private let fixedLast = try? RegexMap(text: fixedText, path: "popmap.re", matchOrder: .last)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRegexMap(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let control = input.byte()
    let order: RegexMatchOrder = control & 2 == 0 ? .first : .last
    let map: RegexMap
    if control & 1 == 0 {
        guard let fixed = order == .first ? fixedFirst : fixedLast else {
            fuzzCheck(false, "the fixed rules do not compile")
            return 0
        }
        map = fixed
    } else {
        let rules = input.piece(upTo: 0)
        guard rules.count <= 512, !regcompMayExplode(rules) else { return 0 }
        guard let parsed = try? RegexMap(text: String(decoding: rules, as: UTF8.self), path: "re", matchOrder: order)
        else { return 0 }
        map = parsed
    }
    let user = input.remainderText()
    check(map, user: user, fixed: control & 1 == 0)
    return 0
}

private func check(_ map: RegexMap, user: String, fixed: Bool) {
    let (value, refusals) = map.evaluate(user)
    let lines = Set(map.rules.map(\.line))
    for refusal in refusals {
        guard case .unsafeSubstitution(let line, let group, _) = refusal.reason else {
            fuzzCheck(false, "regex refusal of another kind")
            continue
        }
        fuzzCheck(lines.contains(line), "refusal names line \(line), not a rule")
        fuzzCheck(group.map { (0...9).contains($0) } ?? true, "refusal names group \(group ?? -1)")
    }
    fuzzCheck(map.value(for: user)?.text == value?.text, "value(for:) and evaluate disagree")
    guard let (text, line) = value else { return }
    fuzzCheck(!user.utf8.contains(0), "a name with NUL matched a rule")
    guard let rule = map.rules.first(where: { $0.line == line }) else {
        fuzzCheck(false, "value from line \(line), which is not a rule")
        return
    }
    // Every separator and control character in the value is one the rule's template wrote itself.
    fuzzCheck(
        unsafeScalars(text) == unsafeScalars(rule.template),
        "name text brought separators into '\(text.debugDescription)' (template '\(rule.template)')")
    // The text before the match, the template's own bytes, and a group (at most the whole name) for each
    // `$N` the template names: no more. (The first bound, 11 names' worth, assumed at most ten references; a
    // 10-minute run found a template with more, which is allowed.)
    let references = zip(rule.template.utf8, rule.template.utf8.dropFirst()).filter { pair in
        pair.0 == UInt8(ascii: "$") && (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(pair.1)
    }.count
    fuzzCheck(
        text.utf8.count <= rule.template.utf8.count + (references + 1) * user.utf8.count, "value longer than its parts")
    guard case .success(let parsed) = MapValue.parse(text) else { return }
    for server in parsed.servers {
        fuzzCheck(!server.host.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }, "control in host")
    }
    guard fixed, let shape = fixedRules.indices.first(where: { $0 + 1 == line }).map({ fixedRules[$0].shape })
    else { return }
    fuzzCheck(parsed.servers.count == shape.servers, "line \(line) gave \(parsed.servers.count) servers for '\(user)'")
    fuzzCheck((parsed.backendUser != nil) == shape.backendUser, "line \(line) backend user for '\(user)'")
    fuzzCheck(parsed.servers[0].host.hasSuffix(shape.hostSuffix), "line \(line) host '\(parsed.servers[0].host)'")
    if shape.hostSuffix.hasPrefix(".") || shape.hostSuffix.isEmpty {
        return
    }
    fuzzCheck(parsed.servers[0].host == shape.hostSuffix, "line \(line) host '\(parsed.servers[0].host)'")
}

/// The separators and control characters of a text, counted: what decides how a value splits.
private func unsafeScalars(_ text: String) -> [UInt32: Int] {
    var counts: [UInt32: Int] = [:]
    for scalar in text.unicodeScalars where MapSubstitution.problem(in: String(scalar)) != nil {
        counts[scalar.value, default: 0] += 1
    }
    return counts
}

@_cdecl("FuzzRegexMap_main")
public func fuzzRegexMapMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzRegexMap)
}
