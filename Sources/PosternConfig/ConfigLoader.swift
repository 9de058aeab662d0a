import Foundation
import Yams

/// Reads Postern's YAML configuration and validates it into a ``PosternConfig``.
///
/// Every problem is collected and thrown at once as ``ConfigErrors``, each naming file, line, column and key.
public enum ConfigLoader {
    /// Reads and validates a config file. Throws ConfigErrors listing EVERY problem found (not just the first).
    public static func load(path: String) throws -> PosternConfig {
        let absolute = absolutePath(path, relativeTo: FileManager.default.currentDirectoryPath)
        func unreadable(_ message: String) -> ConfigErrors {
            ConfigErrors(issues: [ConfigIssue(file: path, line: 0, column: 0, key: "", message: message)])
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: absolute, isDirectory: &isDirectory) else {
            throw unreadable("configuration file not found")
        }
        guard !isDirectory.boolValue else { throw unreadable("is a directory, not a configuration file") }
        let data: Data
        do {
            // An empty file is not read: swift-foundation leaks its 4 KiB buffer for every read of a file whose
            // size is 0 (found by LeakSanitizer, see ReloadStatus.read).
            let size = (try? FileManager.default.attributesOfItem(atPath: absolute))?[.size] as? Int
            data = size == 0 ? Data() : try Data(contentsOf: URL(fileURLWithPath: absolute))
        } catch {
            throw unreadable("cannot read the configuration file: \(error.localizedDescription)")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw unreadable("the file is not valid UTF-8") }
        return try parse(yaml: text, path: path)
    }

    /// Same from text; `path` is used for messages and to resolve relative paths (relative to its folder).
    public static func parse(yaml: String, path: String) throws -> PosternConfig {
        let collector = IssueCollector(file: path)
        collector.textEnd = endPosition(of: yaml)
        let sourcePath = absolutePath(path, relativeTo: FileManager.default.currentDirectoryPath)
        let baseDirectory = URL(fileURLWithPath: sourcePath).deletingLastPathComponent().path
        var composer = DuplicateKeyComposer(yaml: yaml)
        let root: Node?
        do {
            root = try composer.compose()
            collector.insertions = composer.insertions
            collector.renamedKeys = composer.renamedKeys
        } catch {
            collector.insertions = composer.insertions
            report(error, yaml: composer.yaml, to: collector)
            throw ConfigErrors(issues: collector.sortedIssues)
        }
        let walker = SchemaWalker(collector: collector, baseDirectory: baseDirectory)
        let config = walker.walk(root, sourcePath: sourcePath)
        guard collector.issues.isEmpty else { throw ConfigErrors(issues: collector.sortedIssues) }
        return config
    }

    /// `path` made absolute against `base` (when relative) and standardized (`.` and `..` removed).
    static func absolutePath(_ path: String, relativeTo base: String) -> String {
        let url =
            path.hasPrefix("/")
            ? URL(fileURLWithPath: path)
            : URL(fileURLWithPath: base, isDirectory: true).appendingPathComponent(path)
        return url.standardizedFileURL.path
    }

    /// Turns an error from Yams into an issue located in the original text.
    static func report(_ error: any Error, yaml: String, to collector: IssueCollector) {
        guard let yamlError = error as? YamlError else {
            collector.report("", line: 0, column: 0, "cannot parse the YAML: \(error)")
            return
        }
        switch yamlError {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            var message = "YAML syntax error: \(problem)"
            if let context {
                let (line, column) = collector.inText(collector.originalPosition(context.mark))
                message = "YAML syntax error: \(context.text) at line \(line), column \(column): \(problem)"
            }
            let (line, column) = collector.inText(collector.originalPosition(mark))
            collector.report("", line: line, column: column, message)
        case .reader(let problem, let offset, _, _):
            let (line, column) = offset.map { position(ofCharacterOffset: $0, in: yaml) } ?? (0, 0)
            collector.report("", line: line, column: column, "cannot read the YAML text: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let names = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            collector.report("", mark: context.mark, "duplicate key \(names) in one mapping")
        default:
            collector.report("", line: 0, column: 0, "cannot parse the YAML: \(yamlError)")
        }
    }

    /// The line and column just after the last character, with line breaks as YAML counts them: LF, CR,
    /// CRLF (once), NEL, LS and PS.
    static func endPosition(of text: String) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        var previous: Unicode.Scalar?
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n" where previous == "\r": break
            case "\n", "\r", "\u{85}", "\u{2028}", "\u{2029}":
                line += 1
                column = 1
            default: column += 1
            }
            previous = scalar
        }
        return (line, column)
    }

    /// 1-based line and column of the character at `offset` in `text`.
    static func position(ofCharacterOffset offset: Int, in text: String) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        for character in text.prefix(offset) {
            if character.isNewline {
                line += 1
                column = 1
            } else {
                column += character.unicodeScalars.count
            }
        }
        return (line, column)
    }
}

/// Composes YAML with Yams while tolerating duplicate keys, so that they can be reported with everything else.
///
/// Yams refuses a mapping with a repeated key. Each time it does, the earlier occurrence is renamed by inserting
/// a marker in front of it and the text is composed again; the walker then sees the marker, reports the later
/// occurrence as a duplicate, and maps every position back through the recorded insertions.
struct DuplicateKeyComposer {
    static let markerStem = "postern-duplicate-key-"
    static let maxRenames = 100

    private(set) var yaml: String
    private(set) var insertions: [TextInsertion] = []
    private(set) var renamedKeys: [String: String] = [:]

    init(yaml: String) {
        self.yaml = yaml
    }

    mutating func compose() throws -> Node? {
        while true {
            do {
                return try Yams.compose(yaml: yaml)
            } catch YamlError.duplicatedKeysInMapping(let duplicates, let context) {
                guard renamedKeys.count < Self.maxRenames, let name = duplicates.first,
                    rename(name, at: context.mark)
                else { throw YamlError.duplicatedKeysInMapping(duplicates: duplicates, context: context) }
            }
        }
    }

    /// Inserts a unique marker before the key `name` that starts at `mark`; false if the text there
    /// does not look like that key (then the duplicate is reported as Yams found it).
    private mutating func rename(_ name: String, at mark: Mark) -> Bool {
        let scalars = yaml.unicodeScalars
        var lineStart = scalars.startIndex
        for _ in 1..<max(mark.line, 1) {
            guard let newline = scalars[lineStart...].firstIndex(of: "\n") else { return false }
            lineStart = scalars.index(after: newline)
        }
        guard let at = scalars.index(lineStart, offsetBy: mark.column - 1, limitedBy: scalars.endIndex) else {
            return false
        }
        let rest = scalars[at...]
        // A quoted key becomes part of a plain one, so only simple names are renamed that way.
        let quoted = (rest.first == "\"" || rest.first == "'") && name.allSatisfy(Self.isSimpleKeyCharacter)
        guard rest.starts(with: name.unicodeScalars) || quoted else { return false }
        let marker = "\(Self.markerStem)\(renamedKeys.count + 1)~"
        let length = marker.unicodeScalars.count
        for index in insertions.indices
        where insertions[index].line == mark.line && insertions[index].column >= mark.column {
            insertions[index].column += length
        }
        insertions.append(TextInsertion(line: mark.line, column: mark.column, length: length))
        renamedKeys[marker] = name
        var rewritten = String.UnicodeScalarView()
        rewritten.append(contentsOf: scalars[..<at])
        rewritten.append(contentsOf: marker.unicodeScalars)
        rewritten.append(contentsOf: rest)
        yaml = String(rewritten)
        return true
    }

    private static func isSimpleKeyCharacter(_ character: Character) -> Bool {
        character.isASCIILetterOrDigit || character == "_" || character == "-" || character == "."
    }
}
