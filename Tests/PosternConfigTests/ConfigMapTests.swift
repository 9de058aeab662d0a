import Foundation
import XCTest

@testable import PosternConfig

/// The `map:` keys of the directory issue: exactly as the issue writes them, plus errors with lines.
final class ConfigMapTests: XCTestCase {
    func testTheIssueExampleLoadsAsWritten() throws {
        let fixture = try ConfigFixture()
        try Data("secret\n".utf8).write(to: URL(fileURLWithPath: fixture.path("ldap.secret")))
        let path = try fixture.write(
            plainListener + """
                map:
                  file: demo/users.map
                  ldap:
                    uri: ["ldap://127.0.0.1:389"]
                    bind_dn: "cn=postern,dc=example,dc=org"
                    password_file: ldap.secret
                    base: "ou=people,dc=example,dc=org"
                    scope: sub
                    filter: "(uid={user})"
                    host_attribute: mailHost
                    port_attribute: mailPort
                    user_attribute: ""
                    timeout: 5
                  cache: { ttl: 300, negative_ttl: 30, stale_ttl: 3600 }
                  default: ["127.0.0.1"]
                """)
        let config = try ConfigLoader.load(path: path)
        let map = config.map
        XCTAssertEqual(map.files, [fixture.path("demo/users.map")])
        XCTAssertEqual(map.defaultServers, ["127.0.0.1"])
        XCTAssertEqual(map.cache, MapCacheConfig())
        let ldap = try XCTUnwrap(map.ldap)
        XCTAssertEqual(ldap.uris, ["ldap://127.0.0.1:389"])
        XCTAssertEqual(ldap.bindDN, "cn=postern,dc=example,dc=org")
        XCTAssertEqual(ldap.passwordFile, fixture.path("ldap.secret"))
        XCTAssertEqual(ldap.base, "ou=people,dc=example,dc=org")
        XCTAssertEqual(ldap.scope, .sub)
        XCTAssertEqual(ldap.filter, "(uid={user})")
        XCTAssertEqual(ldap.hostAttribute, "mailHost")
        XCTAssertEqual(ldap.portAttribute, "mailPort")
        XCTAssertNil(ldap.userAttribute)
        XCTAssertEqual(ldap.timeout, 5)
    }

    func testDefaultAsAStringAndAsAListAndOtherForms() throws {
        let fixture = try ConfigFixture()
        let path = try fixture.write(
            plainListener + """
                map:
                  default: ["a.example:1143", "b.example", "[::1]:143"]
                  hashing: ring
                  ldap: { uri: "ldaps://dir.example", base: "dc=x", scope: one, starttls: false, pool_size: 2 }
                  username:
                    domain_delimiter: "%"
                    lookup: { strip_domain: true, lower_case: true }
                    login: { default_domain: example.org, lower_case: domain }
                    key_template: "{local}@{domain}"
                    from_map: false
                  breaker: { failures: 3, backoff: 10 }
                  cache: { ttl: 0 }
                  order: [ldap, file]
                """)
        let map = try ConfigLoader.load(path: path).map
        XCTAssertEqual(map.defaultServers, ["a.example:1143", "b.example", "[::1]:143"])
        XCTAssertEqual(map.defaultServer, "a.example:1143")
        XCTAssertEqual(map.hashing, .ring)
        XCTAssertEqual(map.ldap?.uris, ["ldaps://dir.example"])
        XCTAssertEqual(map.ldap?.scope, .one)
        XCTAssertEqual(map.ldap?.poolSize, 2)
        XCTAssertEqual(map.username.domainDelimiter, "%")
        XCTAssertEqual(map.username.lookup.stripDomain, true)
        XCTAssertEqual(map.username.lookup.lowerCase, .all)
        XCTAssertEqual(map.username.login.defaultDomain, "example.org")
        XCTAssertEqual(map.username.login.lowerCase, .domain)
        XCTAssertEqual(map.username.keyTemplate, "{local}@{domain}")
        XCTAssertEqual(map.username.fromMap, false)
        XCTAssertEqual(
            map.breaker,
            {
                var b = BreakerConfig(); b.failures = 3; b.backoff = 10; return b
            }())
        XCTAssertEqual(map.cache.ttl, 0)
        XCTAssertEqual(map.order, [.ldap, .file, .regex])

        let single = try fixture.write(plainListener + "map: { default: mail.example }\n", name: "single.yaml")
        XCTAssertEqual(try ConfigLoader.load(path: single).map.defaultServers, ["mail.example"])
    }

    func testBadMapValuesNameLineAndKey() throws {
        let fixture = try ConfigFixture()
        let issues = try fixture.issues(
            plainListener + """
                map:
                  default: ["ok.example", "[::1"]
                  ldap:
                    uri: ["http://dir.example", "ldap://dir.example/dc=x?uid"]
                    base: "dc=x"
                    scope: subtree
                    filter: "(uid={login})"
                    host_attribute: "mail host"
                    timeout: 0
                    pool_size: 100
                    colour: blue
                  cache: { ttl: -1, size: 0 }
                  username: { lookup: { lower_case: upper } }
                  order: [file, file]
                """)
        assertIssue(issues, line: 7, key: "map.default[1]", contains: "missing ']'")
        assertIssue(issues, line: 9, key: "map.ldap.uri[0]", contains: "not an ldap:// or ldaps:// URI")
        assertIssue(issues, line: 9, key: "map.ldap.uri[1]", contains: "give only the scheme, host and port")
        assertIssue(issues, line: 11, key: "map.ldap.scope", contains: "bad value 'subtree'")
        assertIssue(issues, line: 12, key: "map.ldap.filter", contains: "unknown placeholder '{login}'")
        assertIssue(issues, line: 13, key: "map.ldap.host_attribute", contains: "not an LDAP attribute name")
        assertIssue(issues, line: 14, key: "map.ldap.timeout", contains: "out of range")
        assertIssue(issues, line: 15, key: "map.ldap.pool_size", contains: "out of range")
        assertIssue(issues, line: 16, key: "map.ldap.colour", contains: "unknown key 'colour'")
        assertIssue(issues, line: 17, key: "map.cache.ttl", contains: "out of range")
        assertIssue(issues, line: 17, key: "map.cache.size", contains: "out of range")
        assertIssue(issues, line: 18, key: "map.username.lookup.lower_case", contains: "bad value 'upper'")
        assertIssue(issues, line: 19, key: "map.order[1]", contains: "listed twice")
    }

    func testLDAPNeedsURIAndBaseAndAFilterInParentheses() throws {
        let fixture = try ConfigFixture()
        let issues = try fixture.issues(
            plainListener + """
                map:
                  ldap:
                    filter: "uid={user}"
                    password_file: missing.secret
                """)
        assertIssue(issues, line: 7, key: "map.ldap.uri", contains: "missing required key 'uri'")
        assertIssue(issues, line: 7, key: "map.ldap.base", contains: "missing required key 'base'")
        assertIssue(issues, line: 8, key: "map.ldap.filter", contains: "written in parentheses")
        assertIssue(issues, line: 9, key: "map.ldap.password_file", contains: "file not found")
    }
}
