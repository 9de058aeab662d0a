import Foundation
import XCTest

@testable import PosternConfig

/// The listener keys `sasl` and `managesieve`.
final class ConfigListenerLoginTests: XCTestCase {
    func testSASLAndManageSieveSettings() throws {
        let fixture = try ConfigFixture()
        let config = try ConfigLoader.load(
            path: fixture.write(
                """
                listeners:
                  - name: imap
                    protocol: imap
                    listen: ["127.0.0.1:1143"]
                    backend: { port: 143 }
                  - name: pop3
                    protocol: pop3
                    listen: ["127.0.0.1:1110"]
                    backend: { port: 110 }
                    sasl: [PLAIN, xoauth2, oauthbearer]
                  - name: sieve
                    protocol: managesieve
                    listen: ["127.0.0.1:4190"]
                    backend: { port: 4190 }
                    sasl: oauthbearer
                    managesieve:
                      sieve: "fileinto  vacation"
                      notify: ""
                  - name: sieve2
                    protocol: managesieve
                    listen: ["127.0.0.1:4191"]
                    backend: { port: 4190 }
                    managesieve:
                      notify:
                """))
        XCTAssertEqual(config.listeners[0].sasl, [.plain, .login], "the default")
        XCTAssertNil(config.listeners[0].manageSieve)
        XCTAssertEqual(config.listeners[1].sasl, [.plain, .xoauth2, .oauthbearer], "in order, any case")
        XCTAssertEqual(config.listeners[2].sasl, [.oauthbearer], "a single name")
        XCTAssertEqual(config.listeners[2].manageSieve, ManageSieveSettings(sieve: "fileinto vacation", notify: ""))
        XCTAssertEqual(config.listeners[3].manageSieve, ManageSieveSettings(sieve: nil, notify: ""))
    }

    func testBadSASLLists() throws {
        let issues = try ConfigFixture().issues(
            """
            listeners:
              - name: a
                protocol: imap
                listen: ["127.0.0.1:1143"]
                backend: { port: 143 }
                sasl: [plain, cram-md5, plain]
              - name: b
                protocol: imap
                listen: ["127.0.0.1:1144"]
                backend: { port: 143 }
                sasl: []
              - name: c
                protocol: imap
                listen: ["127.0.0.1:1145"]
                backend: { port: 143 }
                sasl: { plain: true }
            """)
        assertIssue(
            issues, line: 6, key: "listeners[0].sasl[1]",
            contains: "unknown SASL mechanism 'cram-md5' (allowed: plain, login, xoauth2, oauthbearer)")
        assertIssue(issues, line: 6, key: "listeners[0].sasl[2]", contains: "mechanism 'plain' is listed twice")
        assertIssue(issues, line: 11, key: "listeners[1].sasl", contains: "at least one mechanism is required")
        assertIssue(issues, line: 16, key: "listeners[2].sasl", contains: "expected a list of mechanisms")
        XCTAssertEqual(issues.count, 4)
    }

    func testManageSieveBlockProblems() throws {
        let issues = try ConfigFixture().issues(
            """
            listeners:
              - name: imap
                protocol: imap
                listen: ["127.0.0.1:1143"]
                backend: { port: 143 }
                managesieve: { sieve: "fileinto" }
              - name: sieve
                protocol: managesieve
                listen: ["127.0.0.1:4190"]
                backend: { port: 4190 }
                managesieve:
                  sieve: "fileinto \\"x\\""
                  notfy: mailto
              - name: sieve2
                protocol: managesieve
                listen: ["127.0.0.1:4191"]
                backend: { port: 4190 }
                managesieve:
                  sieve: "  "
            """)
        assertIssue(
            issues, line: 6, key: "listeners[0].managesieve",
            contains: "only a listener with protocol managesieve takes this block")
        assertIssue(issues, line: 12, key: "listeners[1].managesieve.sieve", contains: "no quotes or backslashes")
        assertIssue(
            issues, line: 13, key: "listeners[1].managesieve.notfy",
            contains: "unknown key 'notfy' (did you mean 'notify'?)")
        assertIssue(issues, line: 19, key: "listeners[2].managesieve.sieve", contains: "must not be empty")
        XCTAssertEqual(issues.count, 4)
    }
}
