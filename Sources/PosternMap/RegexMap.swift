import Foundation
import PosternConfig

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A compiled POSIX extended regular expression (as Perdition's `regcomp(REG_EXTENDED|REG_NEWLINE)`).
///
/// `regexec` on a compiled expression is thread-safe; the expression is freed with its owner.
final class PosixRegex: @unchecked Sendable {
    private var regex = regex_t()
    let pattern: String

    init(_ pattern: String) throws(MapError) {
        self.pattern = pattern
        let status = regcomp(&regex, pattern, REG_EXTENDED | REG_NEWLINE)
        guard status == 0 else {
            var buffer = [CChar](repeating: 0, count: 256)
            regerror(status, &regex, &buffer, buffer.count)
            throw MapError(
                "bad regular expression '\(pattern)': \(String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self))"
            )
        }
    }

    deinit { regfree(&regex) }

    /// Byte ranges of the whole match and of groups 1...9 (nil when a group took no part), or nil.
    func match(_ text: String) -> [Range<Int>?]? {
        var matches = [regmatch_t](repeating: regmatch_t(), count: 10)
        let status = regexec(&regex, text, matches.count, &matches, 0)
        guard status == 0 else { return nil }
        return matches.map { $0.rm_so < 0 || $0.rm_eo < 0 ? nil : Int($0.rm_so)..<Int($0.rm_eo) }
    }
}

/// Regex rules in Perdition's `popmap.re` format: `REGEX: VALUE` a line, `#` comments.
///
/// The regex is POSIX extended and ends at the first `:`; the value is `[user@]host[:port]` (several
/// allowed) where `$0`...`$9` stand for the match and its groups. As in Perdition, the text of the user
/// name before the match is kept in front of the value (anchor with `^` to avoid that). Text taken from
/// the name must be free of separators and control characters, or the rule does not match.
public struct RegexMap: UserMap {
    /// One rule.
    struct Rule: Sendable {
        var regex: PosixRegex
        var template: String
        var line: Int
    }

    public let path: String
    public let matchOrder: RegexMatchOrder
    let rules: [Rule]
    /// Told of each rule skipped because its substitution was unsafe.
    public let refusalSink: MapRefusalSink

    /// Reads and compiles a rules file.
    public init(
        path: String, matchOrder: RegexMatchOrder = .first, refusals: MapRefusalSink = .none
    ) throws(FileMap.ParseError) {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw FileMap.ParseError(
                path: path, line: 0, message: "cannot read the regex map: \(error.localizedDescription)")
        }
        try self.init(text: text, path: path, matchOrder: matchOrder, refusals: refusals)
    }

    /// Parses rules text; `path` names it in errors and reasons.
    public init(
        text: String, path: String, matchOrder: RegexMatchOrder = .first, refusals: MapRefusalSink = .none
    ) throws(FileMap.ParseError) {
        self.path = path
        self.refusalSink = refusals
        self.matchOrder = matchOrder
        var rules: [Rule] = []
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        for (index, raw) in lines.enumerated() {
            var line = Substring(raw)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            line = line.drop(while: { $0 == " " || $0 == "\t" })
            while let last = line.last, last == " " || last == "\t" || last == "\r" { line = line.dropLast() }
            if line.isEmpty { continue }
            guard let colon = line.firstIndex(of: ":") else {
                throw FileMap.ParseError(path: path, line: index + 1, message: "expected 'REGEX: VALUE'")
            }
            let pattern = String(line[..<colon])
            let value = line[line.index(after: colon)...].drop(while: { $0 == " " || $0 == "\t" })
            guard !pattern.isEmpty, !value.isEmpty else {
                throw FileMap.ParseError(path: path, line: index + 1, message: "expected 'REGEX: VALUE'")
            }
            do {
                rules.append(Rule(regex: try PosixRegex(pattern), template: String(value), line: index + 1))
            } catch {
                throw FileMap.ParseError(path: path, line: index + 1, message: error.message)
            }
        }
        self.rules = rules
    }

    /// Number of rules, for logs.
    public var count: Int { rules.count }

    /// The expanded value of the winning rule for `user`, and its line; nil when no rule matches.
    ///
    /// A rule whose substituted text (a `$N` group, or the text before an unanchored match) carries a
    /// separator or control character (see ``MapSubstitution``) counts as not matching.
    public func value(for user: String) -> (text: String, line: Int)? {
        evaluate(user).value
    }

    /// The winning rule's value, and the rules skipped on the way because their substitution was unsafe.
    func evaluate(_ user: String) -> (value: (text: String, line: Int)?, refusals: [MapRefusal]) {
        let ordered = matchOrder == .first ? rules : rules.reversed()
        let bytes = Array(user.utf8)
        var refusals: [MapRefusal] = []
        // regexec sees a C string: a NUL would hide the rest of the name from every rule.
        if bytes.contains(0) {
            let refusals = ordered.prefix(1).map { refusal($0, group: nil, .controlCharacter(0)) }
            return (nil, refusals)
        }
        rules: for rule in ordered {
            guard let groups = rule.regex.match(user), let whole = groups[0] else { continue }
            var out = Array(bytes[..<whole.lowerBound])
            if let problem = MapSubstitution.problem(inBytes: out) {
                refusals.append(refusal(rule, group: nil, problem))
                continue
            }
            let template = Array(rule.template.utf8)
            var index = 0
            while index < template.count {
                let byte = template[index]
                if byte == UInt8(ascii: "$"), index + 1 < template.count,
                    (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(template[index + 1])
                {
                    let number = Int(template[index + 1] - UInt8(ascii: "0"))
                    if let group = groups[number] {
                        if let problem = MapSubstitution.problem(inBytes: bytes[group]) {
                            refusals.append(refusal(rule, group: number, problem))
                            continue rules
                        }
                        out += bytes[group]
                        index += 2
                        continue
                    }
                }
                out.append(byte)
                index += 1
            }
            return ((String(decoding: out, as: UTF8.self), rule.line), refusals)
        }
        return (nil, refusals)
    }

    private func refusal(_ rule: Rule, group: Int?, _ problem: MapSubstitutionProblem) -> MapRefusal {
        MapRefusal(source: path, reason: .unsafeSubstitution(line: rule.line, group: group, problem: problem))
    }

    public func lookup(_ query: MapQuery) async throws -> Route? {
        try route(for: query)
    }

    /// A regex map always answers at once.
    public func immediateLookup(_ query: MapQuery) throws -> ImmediateLookup {
        .answered(try route(for: query))
    }

    private func route(for query: MapQuery) throws -> Route? {
        let (value, refusals) = evaluate(query.user)
        for refusal in refusals {
            query.note("regex \(refusal)")
            refusalSink.report(refusal)
        }
        guard let (text, line) = value else {
            query.note("regex \(path): no rule matches '\(query.user)'")
            return nil
        }
        switch MapValue.parse(text) {
        case .success(let value):
            query.note("regex \(path): line \(line) matches, value '\(text)'")
            return Route(
                servers: value.servers, reason: "\(path):\(line) (regex)", backendUser: value.backendUser)
        case .failure(let error):
            query.note("regex \(path): line \(line) gives '\(text)', which is not a server: \(error.message)")
            throw MapError("\(path):\(line): the rule gives '\(text)': \(error.message)")
        }
    }
}
