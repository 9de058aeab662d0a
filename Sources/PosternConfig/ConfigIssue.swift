/// One problem found in a configuration file, located by file, line, column and dotted key path.
///
/// Its description reads `FILE:LINE:COLUMN: KEY: MESSAGE`; the `KEY: ` part is left out when the
/// problem concerns the file as a whole (an unreadable file, a YAML syntax error, an empty document).
public struct ConfigIssue: Error, Sendable, Equatable, CustomStringConvertible {
    /// The configuration file path as given to the loader.
    public var file: String
    /// 1-based line; 0 if unknown.
    public var line: Int
    /// 1-based column; 0 if unknown.
    public var column: Int
    /// Dotted key path, e.g. `listeners[1].tls` or `limits.login_timeout`; empty for file-level problems.
    public var key: String
    /// What is wrong, in plain words.
    public var message: String

    public init(file: String, line: Int, column: Int, key: String, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.key = key
        self.message = message
    }

    public var description: String {
        key.isEmpty ? "\(file):\(line):\(column): \(message)" : "\(file):\(line):\(column): \(key): \(message)"
    }
}

/// Every problem found in one configuration file, thrown together by ``ConfigLoader``.
///
/// The issues are ordered by position in the file; the description has one issue per line.
public struct ConfigErrors: Error, Sendable, CustomStringConvertible {
    public var issues: [ConfigIssue]

    public init(issues: [ConfigIssue]) {
        self.issues = issues
    }

    public var description: String {
        issues.map(\.description).joined(separator: "\n")
    }
}
