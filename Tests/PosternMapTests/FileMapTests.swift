import Foundation
import PosternMap
import XCTest

/// `FileMap`: parsing of `user server[,server...]` lines and the lookup order.
final class FileMapTests: XCTestCase {
    private let sample = """
        # Postern user map
        alice@example.org   imap1.example.org:1143

           # an indented comment, then a blank line with spaces
        \t
        Bob@Example.org     imap2.example.org        # trailing comment
        *@example.org       imap3.example.org:143
        *@Other.NET         [::1]:1143
        carol               imap1:1143,imap2:1144 imap3 , [2001:db8::7]
        dave\timap4:2143\r
        """

    private func map(_ text: String, path: String = "users.map") throws -> FileMap {
        try FileMap(text: text, path: path)
    }

    /// The parse error `text` produces, or a test failure when it parses.
    private func parseError(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> FileMap.ParseError? {
        do {
            let map = try FileMap(text: text, path: "bad.map")
            XCTFail("expected a parse error, got \(map.count) entries", file: file, line: line)
        } catch let error as FileMap.ParseError {
            XCTAssertEqual(error.path, "bad.map", file: file, line: line)
            return error
        } catch {
            XCTFail("expected a ParseError, got \(error)", file: file, line: line)
        }
        return nil
    }

    func testCommentsAndBlankLinesAreSkipped() throws {
        let map = try map(sample)
        XCTAssertEqual(map.count, 6)
        XCTAssertEqual(map.path, "users.map")
        XCTAssertNil(map.entry(for: "#"))
        XCTAssertNil(map.entry(for: "an"))
    }

    func testExactMatch() async throws {
        let map = try map(sample)
        let route = try await map.lookup(user: "alice@example.org")
        XCTAssertEqual(
            route,
            Route(servers: [BackendAddress(host: "imap1.example.org", port: 1143)], reason: "users.map:2 (exact)"))
        let (entry, kind) = try XCTUnwrap(map.entry(for: "alice@example.org"))
        XCTAssertEqual(entry.key, "alice@example.org")
        XCTAssertEqual(entry.line, 2)
        XCTAssertEqual(kind, "exact")
    }

    func testCaseInsensitiveFallback() async throws {
        let map = try map(sample)
        let folded = try await map.lookup(user: "BOB@example.ORG")
        XCTAssertEqual(folded?.servers, [BackendAddress(host: "imap2.example.org")])
        XCTAssertEqual(folded?.reason, "users.map:6 (exact, case-insensitive)")
        let exact = try await map.lookup(user: "Bob@Example.org")
        XCTAssertEqual(exact?.reason, "users.map:6 (exact)")
    }

    func testExactSpellingWinsOverACaseInsensitiveMatch() throws {
        let map = try map(
            """
            Erin   upper
            erin   lower
            """)
        XCTAssertEqual(map.entry(for: "Erin")?.0.servers, [BackendAddress(host: "upper")])
        XCTAssertEqual(map.entry(for: "erin")?.0.servers, [BackendAddress(host: "lower")])
        XCTAssertEqual(map.entry(for: "ERIN")?.0.servers, [BackendAddress(host: "upper")], "the first line wins")
        XCTAssertEqual(map.entry(for: "ERIN")?.1, "exact, case-insensitive")
    }

    func testDomainWildcard() async throws {
        let map = try map(sample)
        let route = try await map.lookup(user: "zed@example.org")
        XCTAssertEqual(route?.servers, [BackendAddress(host: "imap3.example.org", port: 143)])
        XCTAssertEqual(route?.reason, "users.map:7 (domain wildcard *@example.org)")
        let upper = try await map.lookup(user: "Zed@EXAMPLE.org")
        XCTAssertEqual(upper?.reason, "users.map:7 (domain wildcard *@example.org)")
        let other = try await map.lookup(user: "x@other.net")
        XCTAssertEqual(other?.servers, [BackendAddress(host: "::1", port: 1143)])
        XCTAssertEqual(other?.reason, "users.map:8 (domain wildcard *@other.net)")
        XCTAssertEqual(map.entry(for: "a@b@other.net")?.0.line, 8, "the domain follows the last '@'")
        XCTAssertNil(map.entry(for: "zed@sub.example.org"), "a wildcard does not cover subdomains")
        XCTAssertNil(map.entry(for: "example.org"))
        XCTAssertNil(map.entry(for: "zed@"))
    }

    func testExactEntryWinsOverAnEarlierWildcard() throws {
        let map = try map(
            """
            *@example.org        wild
            frank@example.org    tame
            """)
        XCTAssertEqual(map.entry(for: "frank@example.org")?.0.servers, [BackendAddress(host: "tame")])
        XCTAssertEqual(map.entry(for: "FRANK@example.org")?.0.servers, [BackendAddress(host: "tame")])
        XCTAssertEqual(map.entry(for: "gina@example.org")?.0.servers, [BackendAddress(host: "wild")])
    }

    func testUnknownUser() async throws {
        let map = try map(sample)
        for user in ["nobody", "nobody@example.com", ""] {
            let route = try await map.lookup(user: user)
            XCTAssertNil(route, user)
        }
    }

    func testSeveralServersCommaOrSpaceSeparated() throws {
        let map = try map(sample)
        XCTAssertEqual(
            map.entry(for: "carol")?.0.servers,
            [
                BackendAddress(host: "imap1", port: 1143), BackendAddress(host: "imap2", port: 1144),
                BackendAddress(host: "imap3"), BackendAddress(host: "2001:db8::7"),
            ])
    }

    func testTabsAndCRLF() throws {
        let map = try map(sample.replacingOccurrences(of: "\n", with: "\r\n"))
        XCTAssertEqual(map.entry(for: "dave")?.0.servers, [BackendAddress(host: "imap4", port: 2143)])
        XCTAssertEqual(map.entry(for: "bob@example.org")?.0.line, 6)
        XCTAssertEqual(map.count, 6)
    }

    func testFirstOfDuplicateLinesWins() throws {
        let map = try map(
            """
            henry  first
            henry  second
            *@d.org one
            *@D.ORG two
            """)
        XCTAssertEqual(map.entry(for: "henry")?.0.line, 1)
        XCTAssertEqual(map.entry(for: "x@d.org")?.0.line, 3)
    }

    func testEmptyMap() throws {
        let map = try map("# nothing here\n\n")
        XCTAssertEqual(map.count, 0)
        XCTAssertNil(map.entry(for: "anyone"))
        XCTAssertEqual(try FileMap(text: "", path: "empty.map").count, 0)
    }

    func testUserWithoutServerNamesTheLine() throws {
        let error = try XCTUnwrap(parseError("alice host\n# ok\nbob\n"))
        XCTAssertEqual(error.line, 3)
        XCTAssertEqual(error.message, "expected 'user host[:port]'")
        XCTAssertEqual(error.description, "bad.map:3: expected 'user host[:port]'")
        XCTAssertEqual(parseError("carol   # the server went into the comment")?.line, 1)
    }

    func testBadServerNamesTheLineAndTheServer() throws {
        let error = try XCTUnwrap(parseError("alice host\nbob good,imap1:99999\n"))
        XCTAssertEqual(error.line, 2)
        XCTAssertEqual(error.description, "bad.map:2: bad server 'imap1:99999'")
        XCTAssertEqual(parseError("x host:25:26")?.message, "bad server 'host:25:26'")
        XCTAssertEqual(parseError("x [::1")?.message, "bad server '[::1'")
    }

    func testSeparatorsWithoutAServer() throws {
        let error = try XCTUnwrap(parseError("\n\nivan ,\n"))
        XCTAssertEqual(error.line, 3)
        XCTAssertEqual(error.message, "no server for 'ivan'")
        XCTAssertEqual(parseError("ivan ,, ,")?.message, "no server for 'ivan'")
    }

    func testEmptyWildcardDomain() throws {
        let error = try XCTUnwrap(parseError("a b\n*@ imap1\n"))
        XCTAssertEqual(error.line, 2)
        XCTAssertEqual(error.message, "empty domain in '*@'")
    }

    func testTheFirstOfSeveralErrorsIsReported() throws {
        let error = try XCTUnwrap(parseError("ok host\nbroken\nalso bad:port:x\n"))
        XCTAssertEqual(error.line, 2)
    }

    func testReadsAFile() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "postern-map-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("users.map").path
        try Data(sample.utf8).write(to: URL(fileURLWithPath: file))
        let map = try FileMap(path: file)
        XCTAssertEqual(map.count, 6)
        XCTAssertEqual(map.path, file)
        let route = try await map.lookup(user: "dave")
        XCTAssertEqual(route?.reason, "\(file):10 (exact)")
    }

    func testUnreadableFile() {
        let missing = "/nonexistent/postern/users.map"
        XCTAssertThrowsError(try FileMap(path: missing)) { error in
            guard let error = error as? FileMap.ParseError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.path, missing)
            XCTAssertEqual(error.line, 0)
            XCTAssertTrue(error.message.hasPrefix("cannot read the map"), error.message)
        }
    }
}
