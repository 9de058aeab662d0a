import Foundation
import Yams

/// Collects the issues found while one configuration document is walked.
///
/// It also knows how the loader rewrote the text to get past duplicate keys (see `DuplicateKeyComposer`),
/// so that every reported line and column points into the file as the user wrote it.
final class IssueCollector {
    let file: String
    private(set) var issues: [ConfigIssue] = []
    /// Text inserted into the YAML before composing; marks are mapped back through it.
    var insertions: [TextInsertion] = []
    /// Renamed duplicate keys: the inserted prefix, mapped to the key name it stands for.
    var renamedKeys: [String: String] = [:]
    /// The position just after the text as given (`ConfigLoader.endPosition`); see `inText`.
    var textEnd: (line: Int, column: Int)?

    init(file: String) {
        self.file = file
    }

    /// Records a problem at a node (its mark, mapped back to the original text).
    func report(_ key: String, at node: Node?, _ message: String) {
        report(key, mark: node?.mark, message)
    }

    /// Records a problem at a mark of the composed text; nil means the position is unknown.
    func report(_ key: String, mark: Mark?, _ message: String) {
        let (line, column) = mark.map { inText(originalPosition($0)) } ?? (0, 0)
        report(key, line: line, column: column, message)
    }

    /// A position inside the text: libyaml puts the end of a stream without a last line break on the line after
    /// the last one (an empty document's root sits there too), and a problem there is shown at the end of the
    /// last line.
    func inText(_ position: (line: Int, column: Int)) -> (line: Int, column: Int) {
        guard let textEnd, position.line > textEnd.line else { return position }
        return textEnd
    }

    /// Records a problem at an explicit position of the original text (0 for unknown).
    func report(_ key: String, line: Int, column: Int, _ message: String) {
        issues.append(ConfigIssue(file: file, line: line, column: column, key: key, message: message))
    }

    /// The line of a node in the original text, for messages such as "first given at line 3".
    func line(of node: Node) -> Int {
        node.mark.map { originalPosition($0).line } ?? 0
    }

    /// Maps a mark of the rewritten text back to the text as given.
    func originalPosition(_ mark: Mark) -> (line: Int, column: Int) {
        let shift = insertions.filter { $0.line == mark.line && $0.column + $0.length <= mark.column }
            .reduce(0) { $0 + $1.length }
        return (mark.line, mark.column - shift)
    }

    /// If `key` is a duplicate key renamed by the composer, the name it stands for.
    func renamedKeyName(_ key: String) -> String? {
        guard key.hasPrefix(DuplicateKeyComposer.markerStem), let tilde = key.firstIndex(of: "~") else {
            return nil
        }
        return renamedKeys[String(key[...tilde])]
    }

    /// The issues sorted by position (file-level ones first); the order of equal positions is kept.
    var sortedIssues: [ConfigIssue] {
        issues.enumerated().sorted { lhs, rhs in
            (lhs.element.line, lhs.element.column, lhs.offset) < (rhs.element.line, rhs.element.column, rhs.offset)
        }.map(\.element)
    }
}

/// A run of characters the loader inserted into the YAML text, in the coordinates of the rewritten text.
struct TextInsertion {
    var line: Int
    var column: Int
    var length: Int
}

extension Node {
    /// What kind of value this is, for "expected X, found Y" messages.
    var kindDescription: String {
        switch self {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let scalar):
            switch tag.rawValue {
            case Tag.Name.null.rawValue: return "an empty value"
            case Tag.Name.bool.rawValue: return "a boolean ('\(scalar.string)')"
            case Tag.Name.int.rawValue: return "an integer ('\(scalar.string)')"
            case Tag.Name.float.rawValue: return "a number ('\(scalar.string)')"
            default: return "a string ('\(scalar.string)')"
            }
        }
    }

    /// Whether this is a null scalar (`~`, `null` or nothing at all).
    var isNull: Bool {
        if case .scalar = self { return tag.rawValue == Tag.Name.null.rawValue }
        return false
    }

    /// The resolved tag name of a scalar; nil for collections.
    var scalarTag: String? {
        if case .scalar = self { return tag.rawValue }
        return nil
    }
}

/// One YAML mapping of the schema: checks its keys against the known ones and hands out the values.
///
/// Unknown keys (with a suggestion), duplicate keys and a wrong node kind are reported when it is made.
struct MappingReader {
    /// Dotted key path of the mapping itself; empty for the document root.
    let path: String
    let node: Node
    /// The key this mapping is the value of, if any: missing keys are reported on its line.
    let owner: Node?
    let collector: IssueCollector
    private var entries: [String: (key: Node, value: Node)] = [:]

    /// Reads `node` as a mapping whose allowed keys are `known`. A null node counts as an empty mapping.
    /// Returns nil (after reporting) when the node is something else.
    init?(_ node: Node, path: String, owner: Node? = nil, known: [String], collector: IssueCollector) {
        self.path = path
        self.node = node
        self.owner = owner
        self.collector = collector
        let pairs: [(Node, Node)]
        switch node {
        case .mapping(let mapping): pairs = mapping.map { ($0.key, $0.value) }
        case _ where node.isNull: pairs = []
        default:
            collector.report(path, at: node, "expected a mapping, found \(node.kindDescription)")
            return nil
        }
        var firstSeen: [String: Node] = [:]
        for (key, value) in pairs {
            guard case .scalar(let scalar) = key else {
                collector.report(path, at: key, "keys must be plain strings, found \(key.kindDescription)")
                continue
            }
            let name = collector.renamedKeyName(scalar.string) ?? scalar.string
            let keyPath = Self.join(path, name)
            if let first = firstSeen[name] {
                collector.report(
                    keyPath, at: key, "duplicate key '\(name)' (first given at line \(collector.line(of: first)))")
            } else {
                firstSeen[name] = key
                if !known.contains(name) {
                    var message = "unknown key '\(name)'"
                    if let guess = closestMatch(to: name, among: known) { message += " (did you mean '\(guess)'?)" }
                    collector.report(keyPath, at: key, message)
                }
            }
            if known.contains(name) { entries[name] = (key, value) }
        }
    }

    static func join(_ path: String, _ key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }

    /// The dotted path of one of this mapping's keys.
    func path(_ key: String) -> String { Self.join(path, key) }

    /// The value under `key`, if present.
    subscript(_ key: String) -> Node? { entries[key]?.value }

    /// The key node itself, for problems that concern the key rather than its value.
    func keyNode(_ key: String) -> Node? { entries[key]?.key }

    /// The value under `key`, or nil after reporting it missing at the owning key (or this mapping).
    func required(_ key: String) -> Node? {
        if let value = entries[key]?.value { return value }
        collector.report(path(key), at: owner ?? node, "missing required key '\(key)'")
        return nil
    }

    /// The value under `key` unless it is absent or null.
    func optional(_ key: String) -> Node? {
        guard let value = entries[key]?.value, !value.isNull else { return nil }
        return value
    }
}

// MARK: - Scalar conversions

extension IssueCollector {
    /// The text of any non-null scalar (numbers and booleans as written); reports other nodes.
    func text(_ node: Node, _ path: String) -> String? {
        guard case .scalar(let scalar) = node, !node.isNull else {
            report(path, at: node, "expected a string, found \(node.kindDescription)")
            return nil
        }
        return scalar.string
    }

    /// Like `text`, but also rejects an empty or blank string.
    func nonEmptyText(_ node: Node, _ path: String) -> String? {
        guard let value = text(node, path) else { return nil }
        if value.allSatisfy(\.isWhitespace) {
            report(path, at: node, "must not be empty")
            return nil
        }
        return value
    }

    /// A YAML integer within `range`.
    func integer(_ node: Node, _ path: String, in range: ClosedRange<Int>) -> Int? {
        guard node.scalarTag == Tag.Name.int.rawValue else {
            report(path, at: node, "expected an integer, found \(node.kindDescription)")
            return nil
        }
        guard let value = node.int, range.contains(value) else {
            report(path, at: node, "\(node.scalar?.string ?? "value") is out of range (\(describe(range)))")
            return nil
        }
        return value
    }

    /// A duration in seconds: an integer or a float, finite, greater than 0 and at most `maximum`.
    func seconds(_ node: Node, _ path: String, maximum: Double) -> Double? {
        let tag = node.scalarTag
        guard tag == Tag.Name.int.rawValue || tag == Tag.Name.float.rawValue else {
            report(path, at: node, "expected a number of seconds, found \(node.kindDescription)")
            return nil
        }
        let value = tag == Tag.Name.int.rawValue ? node.int.map(Double.init) : node.float
        guard let value, value.isFinite, value > 0, value <= maximum else {
            let written = node.scalar?.string ?? "value"
            report(path, at: node, "\(written) is out of range (must be more than 0 and at most \(Int(maximum)))")
            return nil
        }
        return value
    }

    /// A YAML boolean (`true`/`false`, and YAML 1.1's `yes`/`no`/`on`/`off`).
    func boolean(_ node: Node, _ path: String) -> Bool? {
        guard node.scalarTag == Tag.Name.bool.rawValue, let value = node.bool else {
            report(path, at: node, "expected true or false, found \(node.kindDescription)")
            return nil
        }
        return value
    }

    /// One of a fixed set of words, compared with the scalar's text as written.
    func choice(_ node: Node, _ path: String, allowed: [String]) -> String? {
        let list = allowed.joined(separator: ", ")
        guard case .scalar(let scalar) = node, !node.isNull else {
            report(path, at: node, "expected one of \(list), found \(node.kindDescription)")
            return nil
        }
        guard allowed.contains(scalar.string) else {
            report(path, at: node, "bad value '\(scalar.string)' (allowed values: \(list))")
            return nil
        }
        return scalar.string
    }

    /// A case of a string-backed enum, by its raw value.
    func choice<E: RawRepresentable & CaseIterable>(_ node: Node, _ path: String, as type: E.Type) -> E?
    where E.RawValue == String {
        choice(node, path, allowed: E.allCases.map(\.rawValue)).flatMap(E.init(rawValue:))
    }

    private func describe(_ range: ClosedRange<Int>) -> String {
        range.upperBound == Int.max
            ? "must be at least \(range.lowerBound)" : "must be \(range.lowerBound)...\(range.upperBound)"
    }
}

// MARK: - Suggestions

/// The candidate closest to `word` by edit distance, if it is at most 2 edits away (and fewer edits
/// than `word` has characters, so that a short word is not "corrected" into an unrelated one).
func closestMatch(to word: String, among candidates: [String]) -> String? {
    var best: (name: String, distance: Int)?
    for candidate in candidates {
        let distance = editDistance(word.lowercased(), candidate.lowercased())
        if distance <= 2, distance < word.count, distance < (best?.distance ?? Int.max) { best = (candidate, distance) }
    }
    return best?.name
}

/// Levenshtein distance between two strings, by characters.
func editDistance(_ lhs: String, _ rhs: String) -> Int {
    let a = Array(lhs)
    let b = Array(rhs)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
            current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
