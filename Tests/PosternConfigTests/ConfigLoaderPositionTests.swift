import PosternConfig
import XCTest

/// Every issue points into the text as written (regressions found by FuzzConfigLoader, docs/hardening.md).
final class ConfigLoaderPositionTests: XCTestCase {
    private func issues(_ yaml: String) -> [ConfigIssue] {
        do {
            _ = try ConfigLoader.parse(yaml: yaml, path: "p.yaml")
            XCTFail("accepted: \(yaml.debugDescription)")
            return []
        } catch {
            return (error as? ConfigErrors)?.issues ?? []
        }
    }

    func testAnErrorAtTheEndOfATextWithoutALastLineBreakIsOnTheLastLine() {
        // "a:\n [" has two lines; libyaml puts the end of the stream on line 3, column 1.
        let found = issues("a:\n [")
        XCTAssertEqual(found.map(\.line), [2], "\(found)")
        XCTAssertEqual(found.first?.column, 3)
        XCTAssertFalse(found.first?.message.contains("line 3") ?? true, "\(found)")
        // The same text ending in a line break: the end of the stream is the start of line 3, which exists.
        XCTAssertEqual(issues("a:\n [\n").map(\.line), [3])
    }

    func testLineBreaksCountAsYAMLCountsThem() {
        // CRLF is one break; CR alone and NEL are breaks too.
        XCTAssertEqual(issues("a:\r\n [").map(\.line), [2])
        XCTAssertEqual(issues("a:\r [").map(\.line), [2])
        XCTAssertEqual(issues("a:\u{85} [").map(\.line), [2])
    }

    func testAnEmptyDocumentWithoutALastLineBreakIsRefusedOnItsOnlyLine() {
        // "---" is an empty document; its root (where "missing required key 'listeners'" is reported) sat on
        // line 2 of a one-line text (found by the 10-minute FuzzConfigLoader run).
        let found = issues("---")
        XCTAssertFalse(found.isEmpty)
        XCTAssertEqual(Set(found.map(\.line)), [1], "\(found)")
        XCTAssertTrue(found.contains { $0.message.contains("listeners") }, "\(found)")
        XCTAssertEqual(Set(issues("---\n").map(\.line)), [2], "with the line break, line 2 exists")
    }
}
