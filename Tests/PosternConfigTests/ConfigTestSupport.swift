import Foundation
import XCTest

@testable import PosternConfig

/// A temporary folder holding a config file and the real files it points at (certificate, key, map, CA, DH).
final class ConfigFixture {
    let directory: URL

    init() throws {
        directory =
            FileManager.default.temporaryDirectory
            .appendingPathComponent("postern-config-tests-\(UUID().uuidString)", isDirectory: true)
            .standardizedFileURL
        let demo = directory.appendingPathComponent("demo", isDirectory: true)
        try FileManager.default.createDirectory(at: demo, withIntermediateDirectories: true)
        for name in ["proxy.pem", "proxy.key", "users.map", "ca.pem", "dh2048.pem"] {
            try Data("test \(name)\n".utf8).write(to: demo.appendingPathComponent(name))
        }
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    /// Absolute path of a file in the fixture folder.
    func path(_ relative: String) -> String {
        directory.appendingPathComponent(relative).standardizedFileURL.path
    }

    /// Writes `yaml` as a config file in the fixture folder and returns its path.
    @discardableResult
    func write(_ yaml: String, name: String = "postern.yaml") throws -> String {
        let url = directory.appendingPathComponent(name)
        try Data(yaml.utf8).write(to: url)
        return url.path
    }

    /// Loads `yaml` from a file and returns the issues it produced; fails the test if it loaded cleanly.
    func issues(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) throws -> [ConfigIssue] {
        let path = try write(yaml)
        do {
            let config = try ConfigLoader.load(path: path)
            XCTFail("expected configuration errors, got \(config)", file: file, line: line)
            return []
        } catch let errors as ConfigErrors {
            for issue in errors.issues { XCTAssertEqual(issue.file, path, file: file, line: line) }
            return errors.issues
        }
    }
}

/// Asserts that exactly one issue has this line, key and message fragment (and column, when given).
func assertIssue(
    _ issues: [ConfigIssue], line: Int, column: Int? = nil, key: String, contains fragment: String,
    file: StaticString = #filePath, fileLine: UInt = #line
) {
    let matching = issues.filter {
        $0.line == line && $0.key == key && $0.message.contains(fragment) && (column == nil || $0.column == column)
    }
    XCTAssertEqual(
        matching.count, 1,
        "no single issue at line \(line) for \(key) containing '\(fragment)'; got:\n"
            + issues.map(\.description).joined(separator: "\n"),
        file: file, line: fileLine)
}

/// A minimal valid listener block, for configs that test something else.
let plainListener = """
    listeners:
      - name: imap
        protocol: imap
        listen: ["127.0.0.1:1143"]
        backend: { port: 143 }

    """
