import Foundation
import XCTest

@testable import PosternConfig

/// Broken configurations: each problem must be reported with its line, key path and a clear message.
final class ConfigLoaderErrorTests: XCTestCase {
    func testUnknownTopLevelKey() throws {
        let issues = try ConfigFixture().issues(
            plainListener + """
                frobnicate: 1
                listners: 2
                """)
        XCTAssertEqual(issues.count, 2)
        assertIssue(issues, line: 6, column: 1, key: "frobnicate", contains: "unknown key 'frobnicate'")
        XCTAssertFalse(issues[0].message.contains("did you mean"))
        assertIssue(issues, line: 7, key: "listners", contains: "unknown key 'listners' (did you mean 'listeners'?)")
    }

    func testUnknownNestedKeyWithSuggestion() throws {
        let issues = try ConfigFixture().issues(
            plainListener + """
                limits:
                  login_timout: 30
                """)
        XCTAssertEqual(issues.count, 1)
        assertIssue(
            issues, line: 7, column: 3, key: "limits.login_timout",
            contains: "unknown key 'login_timout' (did you mean 'login_timeout'?)")
        XCTAssertEqual(
            issues[0].description.hasSuffix(
                ":7:3: limits.login_timout: unknown key 'login_timout' (did you mean 'login_timeout'?)"), true)
    }

    func testUnknownKeyInsideListenerAndBackend() throws {
        let issues = try ConfigFixture().issues(
            """
            listeners:
              - name: imap
                protocoll: imap
                listen: "127.0.0.1:1143"
                backend: { port: 143, tsl: none }
            """)
        assertIssue(issues, line: 3, key: "listeners[0].protocoll", contains: "did you mean 'protocol'?")
        assertIssue(issues, line: 2, key: "listeners[0].protocol", contains: "missing required key 'protocol'")
        assertIssue(issues, line: 5, column: 27, key: "listeners[0].backend.tsl", contains: "did you mean 'tls'?")
        XCTAssertEqual(issues.count, 3)
    }

    func testWrongTypes() throws {
        let issues = try ConfigFixture().issues(
            plainListener + """
                limits:
                  idle_timeout: "long"
                  max_line: 2.5
                server: [workers]
                backend_tls:
                  verify: "maybe"
                """)
        assertIssue(
            issues, line: 7, key: "limits.idle_timeout", contains: "expected a number of seconds, found a string")
        assertIssue(issues, line: 8, key: "limits.max_line", contains: "expected an integer, found a number ('2.5')")
        assertIssue(issues, line: 9, key: "server", contains: "expected a mapping, found a list")
        assertIssue(issues, line: 11, key: "backend_tls.verify", contains: "expected true or false")
        XCTAssertEqual(issues.count, 4)
    }

    func testBadEnumValues() throws {
        let issues = try ConfigFixture().issues(
            """
            server: { log_level: loud }
            listeners:
              - name: imap
                protocol: smtp
                listen: "127.0.0.1:1143"
                tls: maybe
                backend: { port: 143, tls: starttls-required }
            """)
        assertIssue(
            issues, line: 4, column: 15, key: "listeners[0].protocol",
            contains: "bad value 'smtp' (allowed values: imap, pop3, managesieve)")
        assertIssue(
            issues, line: 6, key: "listeners[0].tls",
            contains: "allowed values: none, starttls, starttls-required, implicit")
        assertIssue(
            issues, line: 7, key: "listeners[0].backend.tls", contains: "allowed values: none, starttls, implicit")
        assertIssue(issues, line: 1, key: "server.log_level", contains: "bad value 'loud'")
        XCTAssertEqual(issues.count, 4)
    }

    func testBadPortsAndRanges() throws {
        let issues = try ConfigFixture().issues(
            """
            listeners:
              - name: imap
                protocol: imap
                listen: ["127.0.0.1:0", "127.0.0.1:99999", "127.0.0.1:http"]
                backend:
                  port: 70000
            limits:
              max_line: 100
              login_attempts: 0
              connect_timeout: 0
              buffer_size: 99999999999999999999999
            """)
        assertIssue(issues, line: 4, key: "listeners[0].listen[0]", contains: "bad port '0'")
        assertIssue(issues, line: 4, key: "listeners[0].listen[1]", contains: "bad port '99999'")
        assertIssue(issues, line: 4, key: "listeners[0].listen[2]", contains: "bad port 'http'")
        assertIssue(
            issues, line: 6, key: "listeners[0].backend.port", contains: "70000 is out of range (must be 1...65535)")
        assertIssue(issues, line: 8, key: "limits.max_line", contains: "must be 512...1048576")
        assertIssue(issues, line: 9, key: "limits.login_attempts", contains: "must be at least 1")
        assertIssue(issues, line: 10, key: "limits.connect_timeout", contains: "must be more than 0")
        assertIssue(issues, line: 11, key: "limits.buffer_size", contains: "out of range")
        XCTAssertEqual(issues.count, 8)
    }

    func testListenWithoutPortAndOtherAddressForms() throws {
        let issues = try ConfigFixture().issues(
            """
            server:
              admin_listen: "::1:9100"
            listeners:
              - name: imap
                protocol: imap
                listen: 127.0.0.1
                backend: { port: 143 }
              - name: pop
                protocol: pop3
                listen: [":110", "[::1]", "[::g]:110", "bad host:110"]
                backend: { port: 110 }
              - name: sieve
                protocol: managesieve
                listen: []
                backend: { port: 4190 }
            map:
              default: "[::1]"
            """)
        assertIssue(issues, line: 6, key: "listeners[0].listen", contains: "missing port in '127.0.0.1'")
        assertIssue(issues, line: 2, key: "server.admin_listen", contains: "IPv6 addresses must be written in brackets")
        assertIssue(issues, line: 10, key: "listeners[1].listen[0]", contains: "missing host in ':110'")
        assertIssue(issues, line: 10, key: "listeners[1].listen[1]", contains: "missing port in '[::1]'")
        assertIssue(issues, line: 10, key: "listeners[1].listen[2]", contains: "is not a valid IPv6 address")
        assertIssue(issues, line: 10, key: "listeners[1].listen[3]", contains: "invalid host name 'bad host'")
        assertIssue(issues, line: 14, key: "listeners[2].listen", contains: "at least one listen address is required")
        assertIssue(issues, line: 17, key: "map.default", contains: "missing port in '[::1]'")
        XCTAssertEqual(issues.count, 8)
    }

    func testMissingListenerNameAndOtherRequiredKeys() throws {
        let issues = try ConfigFixture().issues(
            """
            listeners:
              - protocol: imap
                listen: ["127.0.0.1:1143"]
                backend: { port: 143 }
              - name: pop
                protocol: pop3
                listen: ["127.0.0.1:1110"]
                backend:
                  tls: none
            """)
        assertIssue(issues, line: 2, column: 5, key: "listeners[0].name", contains: "missing required key 'name'")
        assertIssue(issues, line: 8, key: "listeners[1].backend.port", contains: "missing required key 'port'")
        XCTAssertEqual(issues.count, 2)
    }

    func testMissingOrEmptyListeners() throws {
        let fixture = try ConfigFixture()
        var issues = try fixture.issues("server:\n  workers: 1\n")
        assertIssue(issues, line: 1, column: 1, key: "listeners", contains: "missing required key 'listeners'")
        issues = try fixture.issues("listeners: []\n")
        assertIssue(issues, line: 1, key: "listeners", contains: "at least one listener is required")
        issues = try fixture.issues("listeners:\n  name: imap\n")
        assertIssue(issues, line: 2, key: "listeners", contains: "expected a list of listeners, found a mapping")
        issues = try fixture.issues("# nothing here\n")
        assertIssue(issues, line: 1, key: "listeners", contains: "the file is empty")
        issues = try fixture.issues("- 1\n- 2\n")
        assertIssue(issues, line: 1, key: "", contains: "expected a mapping, found a list")
    }

    func testDuplicateListenerNameAndAddress() throws {
        let issues = try ConfigFixture().issues(
            """
            server: { admin_listen: "127.0.0.1:1110" }
            listeners:
              - name: imap
                protocol: imap
                listen: ["127.0.0.1:1143", "[::1]:1143"]
                backend: { port: 143 }
              - name: imap
                protocol: pop3
                listen: ["127.0.0.1:1110", "[0:0::1]:1143"]
                backend: { port: 110 }
            """)
        assertIssue(
            issues, line: 7, column: 11, key: "listeners[1].name",
            contains: "duplicate listener name 'imap' (first used by listeners[0] at line 3)")
        assertIssue(
            issues, line: 9, key: "listeners[1].listen[1]",
            contains: "address [0:0::1]:1143 is already used by listener 'imap' at line 5")
        assertIssue(
            issues, line: 1, key: "server.admin_listen",
            contains: "address 127.0.0.1:1110 is also used by listener 'imap' at line 9")
        XCTAssertEqual(issues.count, 3)
    }

    func testTLSBlockMissingWhileListenerUsesSTARTTLS() throws {
        let issues = try ConfigFixture().issues(
            """
            listeners:
              - name: imap
                protocol: imap
                listen: ["127.0.0.1:1143"]
                tls: starttls
                backend: { port: 143 }
              - name: pop3
                protocol: pop3
                listen: ["127.0.0.1:1110"]
                tls: none
                backend: { port: 110 }
            """)
        XCTAssertEqual(issues.count, 1)
        assertIssue(
            issues, line: 5, column: 5, key: "listeners[0].tls",
            contains: "listener uses TLS (starttls) but there is no top-level 'tls' block")
    }

    func testNonexistentCertificateAndOtherFiles() throws {
        let fixture = try ConfigFixture()
        let issues = try fixture.issues(
            """
            listeners:
              - name: imap
                protocol: imap
                listen: ["127.0.0.1:1143"]
                tls: implicit
                backend: { port: 143 }
            tls:
              certificate: demo/missing.pem
              key: demo
              dh_params: /nonexistent/dh.pem
            backend_tls: { ca_file: nope.pem }
            map: { file: "" }
            """)
        assertIssue(
            issues, line: 8, column: 16, key: "tls.certificate",
            contains: "file not found: 'demo/missing.pem' (\(fixture.path("demo/missing.pem")))")
        assertIssue(issues, line: 9, key: "tls.key", contains: "'demo' (\(fixture.path("demo"))) is a directory")
        assertIssue(issues, line: 10, key: "tls.dh_params", contains: "file not found: '/nonexistent/dh.pem'")
        assertIssue(issues, line: 11, key: "backend_tls.ca_file", contains: "file not found: 'nope.pem'")
        assertIssue(issues, line: 12, key: "map.file", contains: "must not be empty")
        XCTAssertEqual(issues.count, 5)
    }

    func testTLSBlockRequiredKeysAndVersions() throws {
        let issues = try ConfigFixture().issues(
            plainListener + """
                tls:
                  min_version: 1.1
                  ciphers: ""
                backend_tls:
                  min_version: "TLSv1.3"
                """)
        assertIssue(issues, line: 6, key: "tls.certificate", contains: "missing required key 'certificate'")
        assertIssue(issues, line: 6, key: "tls.key", contains: "missing required key 'key'")
        assertIssue(
            issues, line: 7, key: "tls.min_version", contains: "bad value '1.1' (allowed values: \"1.2\", \"1.3\")")
        assertIssue(issues, line: 8, key: "tls.ciphers", contains: "must not be empty")
        assertIssue(issues, line: 10, key: "backend_tls.min_version", contains: "bad value 'TLSv1.3'")
        XCTAssertEqual(issues.count, 5)
    }

    func testYAMLSyntaxErrorReportsLine() throws {
        let issues = try ConfigFixture().issues(
            """
            listeners:
              - name: imap
                protocol: imap
                listen: ["127.0.0.1:1143"
                backend: { port: 143 }
            """)
        XCTAssertEqual(issues.count, 1)
        XCTAssertEqual(issues.first?.line, 5)
        XCTAssertEqual(issues.first?.key, "")
        XCTAssertTrue(issues.first?.message.contains("YAML syntax error") ?? false, "\(issues)")
        XCTAssertTrue(issues.first?.message.contains("line 4") ?? false, "\(issues)")

        let badIndent = try ConfigFixture().issues("server:\n  workers: 1\n   log_level: info\n")
        XCTAssertEqual(badIndent.map(\.line), [3])
    }

    func testDuplicateKeysAreReportedWithTheRest() throws {
        let issues = try ConfigFixture().issues(
            """
            listeners:
              - name: imap
                protocol: imap
                listen: ["127.0.0.1:1143"]
                backend: { port: 143, port: 144, tls: bogus }
                protocol: pop3
            limits:
              max_line: 1
            limits:
              max_line: 2
            """)
        assertIssue(
            issues, line: 5, column: 27, key: "listeners[0].backend.port",
            contains: "duplicate key 'port' (first given at line 5)")
        assertIssue(issues, line: 5, column: 43, key: "listeners[0].backend.tls", contains: "bad value 'bogus'")
        assertIssue(
            issues, line: 6, column: 5, key: "listeners[0].protocol",
            contains: "duplicate key 'protocol' (first given at line 3)")
        assertIssue(
            issues, line: 9, column: 1, key: "limits", contains: "duplicate key 'limits' (first given at line 7)")
        assertIssue(issues, line: 10, column: 13, key: "limits.max_line", contains: "2 is out of range")
        XCTAssertEqual(issues.count, 5)
    }

    func testSeveralErrorsInOneFileAreAllReportedInOrder() throws {
        let issues = try ConfigFixture().issues(
            """
            server:
              workers: -1
              log_levl: info
            listeners:
              - name: "bad name"
                protocol: smtp
                listen: ["127.0.0.1"]
                tls: starttls
                backend: { port: 0 }
            map:
              default: "a:b:c"
            limits:
              login_timeout: fast
            extra: true
            """)
        XCTAssertEqual(
            issues.map(\.line), [2, 3, 5, 6, 7, 8, 9, 11, 13, 14], issues.map(\.description).joined(separator: "\n"))
        assertIssue(issues, line: 2, key: "server.workers", contains: "-1 is out of range")
        assertIssue(issues, line: 3, key: "server.log_levl", contains: "did you mean 'log_level'?")
        assertIssue(issues, line: 5, key: "listeners[0].name", contains: "invalid listener name 'bad name'")
        assertIssue(issues, line: 6, key: "listeners[0].protocol", contains: "bad value 'smtp'")
        assertIssue(issues, line: 7, key: "listeners[0].listen[0]", contains: "missing port")
        assertIssue(issues, line: 8, key: "listeners[0].tls", contains: "no top-level 'tls' block")
        assertIssue(issues, line: 9, key: "listeners[0].backend.port", contains: "0 is out of range")
        assertIssue(issues, line: 11, key: "map.default", contains: "must be written in brackets")
        assertIssue(issues, line: 13, key: "limits.login_timeout", contains: "expected a number of seconds")
        assertIssue(issues, line: 14, key: "extra", contains: "unknown key 'extra'")
    }

    func testRepeatedAndQuotedDuplicateKeys() throws {
        let issues = try ConfigFixture().issues(
            """
            listeners:
              - name: a
                "name": b
                name: c
                protocol: imap
                listen: "127.0.0.1:1143"
                backend: {port: 1, tls: none, 'port': 2, port: 3, bad: 1}
            """)
        assertIssue(issues, line: 3, column: 5, key: "listeners[0].name", contains: "first given at line 2")
        assertIssue(issues, line: 4, column: 5, key: "listeners[0].name", contains: "first given at line 2")
        assertIssue(issues, line: 7, column: 35, key: "listeners[0].backend.port", contains: "duplicate key 'port'")
        assertIssue(issues, line: 7, column: 46, key: "listeners[0].backend.port", contains: "duplicate key 'port'")
        assertIssue(issues, line: 7, column: 55, key: "listeners[0].backend.bad", contains: "unknown key 'bad'")
        XCTAssertEqual(issues.count, 5)
    }

    func testOtherYAMLLevelErrors() throws {
        let fixture = try ConfigFixture()
        var issues = try fixture.issues(plainListener + "---\nmore: 1\n")
        XCTAssertEqual(issues.map(\.line), [6])
        XCTAssertTrue(issues[0].message.contains("expected a single document"), "\(issues)")
        issues = try fixture.issues("listeners: [1]\nserver: \u{1}\n")
        XCTAssertEqual(issues.map(\.line), [2])
        XCTAssertEqual(issues.first?.column, 9)
        XCTAssertTrue(issues[0].message.contains("control characters are not allowed"), "\(issues)")
        issues = try fixture.issues("listeners: *nowhere\n")
        XCTAssertEqual(issues.map(\.line), [1])
        XCTAssertTrue(issues[0].message.contains("undefined alias"), "\(issues)")
        issues = try fixture.issues("listeners:\n  - ~\n  - 5\n")
        assertIssue(issues, line: 2, key: "listeners[0]", contains: "expected a listener mapping, found an empty value")
        assertIssue(issues, line: 3, key: "listeners[1]", contains: "expected a mapping, found an integer ('5')")
        XCTAssertEqual(issues.count, 2)
    }

    func testUnreadableFileIsAnIssueAtLineZero() throws {
        let fixture = try ConfigFixture()
        for (path, fragment) in [(fixture.path("absent.yaml"), "not found"), (fixture.path("demo"), "directory")] {
            XCTAssertThrowsError(try ConfigLoader.load(path: path)) { error in
                let issues = (error as? ConfigErrors)?.issues ?? []
                XCTAssertEqual(issues.count, 1)
                XCTAssertEqual(issues.first?.file, path)
                XCTAssertEqual(issues.first?.line, 0)
                XCTAssertTrue(issues.first?.message.contains(fragment) ?? false, "\(issues)")
            }
        }
        try Data([0x6c, 0x3a, 0xff, 0xfe]).write(to: URL(fileURLWithPath: fixture.path("bad.yaml")))
        XCTAssertThrowsError(try ConfigLoader.load(path: fixture.path("bad.yaml"))) { error in
            XCTAssertEqual((error as? ConfigErrors)?.issues.first?.message, "the file is not valid UTF-8")
        }
    }

    func testParseReportsTheGivenPath() throws {
        XCTAssertThrowsError(try ConfigLoader.parse(yaml: "listeners: 5\n", path: "relative/p.yaml")) { error in
            XCTAssertEqual(
                "\(error)", "relative/p.yaml:1:12: listeners: expected a list of listeners, found an integer ('5')")
        }
    }
}
