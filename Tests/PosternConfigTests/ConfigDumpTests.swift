import Foundation
import XCTest

@testable import PosternConfig

/// `postern config dump`: every key with its effective value, loadable back into the same configuration,
/// and no secret's content.
final class ConfigDumpTests: XCTestCase {
    /// Loads `yaml`, dumps it, loads the dump: both must be the same configuration.
    private func assertRoundTrip(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let fixture = try ConfigFixture()
        let path = try fixture.write(yaml)
        let config = try ConfigLoader.load(path: path)
        let dump = ConfigDump.yaml(config)
        let again: PosternConfig
        do {
            again = try ConfigLoader.parse(yaml: dump, path: path)
        } catch {
            XCTFail("the dump does not load: \(error)\n\(dump)", file: file, line: line)
            return dump
        }
        XCTAssertEqual(again, config, "\(dump)", file: file, line: line)
        return dump
    }

    func testAMinimalConfigDumpsEveryDefault() throws {
        let dump = try assertRoundTrip(plainListener)
        for line in [
            "  workers: 0", "  event_loop: \"epoll-thread\"", "  admin_listen: null", "  log_level: \"info\"",
            "  pid_file: null", "  drain_seconds: 30", "  login_grace_seconds: 2", "  max_preauth_commands: 50",
            "  max_connections: 10000",
            "  tcp_keepalive: true", "  login_timeout: 60", "    sasl:", "      - \"plain\"",
            "  regex_match: \"first\"", "    ttl: 300", "# tls: not set (no listener uses TLS)",
        ] {
            XCTAssertTrue(dump.contains(line + "\n") || dump.contains(line), "missing \(line):\n\(dump)")
        }
    }

    func testARichConfigRoundTrips() throws {
        _ = try assertRoundTrip(
            """
            server:
              workers: 2
              event_loop: dispatch-epoll
              admin_listen: "[::1]:9100"
              log_level: debug
              pid_file: run/postern.pid
              user: postern
            listeners:
              - name: imap
                protocol: imap
                listen: ["127.0.0.1:1143", "[::1]:1143"]
                tls: starttls
                backend: { port: 143, tls: none, send_proxy: v2, forward_client: true }
                sasl: [plain, xoauth2]
                proxy_protocol: { accept_from: ["10.0.0.0/8", "2001:db8::/32"] }
              - name: imaps
                protocol: imap
                listen: 0.0.0.0:1993
                tls: implicit
                tls_settings: { min_version: "1.3", session_resumption: cache }
                backend: { port: 993, tls: implicit }
              - name: sieve
                protocol: managesieve
                listen: ["[::]:4190"]
                backend: { port: 4190 }
                managesieve: { sieve: "fileinto", notify: "" }
            tls:
              certificate: demo/proxy.pem
              key: demo/proxy.key
              certificates:
                - { certificate: demo/proxy.pem, key: demo/proxy.key, server_names: ["mail.example", "*.example"] }
              min_version: "1.2"
              max_version: "1.3"
              prefer_server_ciphers: false
              dh_params: demo/dh2048.pem
              client_certificates: optional
              client_ca_file: demo/ca.pem
            backend_tls:
              ca_file: demo/ca.pem
              verify: true
              ciphers: "HIGH"
            backends:
              - host: "mail.example:993"
                tls: implicit
                server_name: imap.example
                pins: ["3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"]
              - host: "[2001:db8::7]:143"
                allow_plaintext_fallback: true
            map:
              file: demo/users.map
              order: [ldap, file]
              default: ["a.example:143", "b.example"]
              hashing: rendezvous
              ldap:
                uri: ["ldap://127.0.0.1:389"]
                bind_dn: "cn=proxy,dc=example"
                password_file: demo/users.map
                base: "ou=people,dc=example"
                scope: one
                port_attribute: ""
                user_attribute: mailUser
                starttls: true
              cache: { ttl: 60, negative_ttl: 0, stale_ttl: 120.5, size: 10 }
              username:
                domain_delimiter: "%"
                lookup: { strip_domain: true, lower_case: all }
                login: { default_domain: "example.org" }
                key_template: "{local}"
                from_map: false
              breaker: { failures: 3, backoff: 12.5 }
              allowed_backends: ["*.example", "10.0.0.0/8"]
            limits:
              login_timeout: 30
              idle_timeout: 2.5
              max_sessions: 50
              max_connections_per_ip: 5
              auth_failure_delay: { initial: 0, max: 4 }
              trusted_networks: ["192.0.2.0/24"]
              tcp_keepalive: false
            shutdown:
              drain_seconds: 7.5
              login_grace_seconds: 0.5
            """)
    }

    func testTheLDAPPasswordIsNamedByItsFileOnly() throws {
        let fixture = try ConfigFixture()
        try Data("s3cret-bind-password\n".utf8).write(to: URL(fileURLWithPath: fixture.path("bind.secret")))
        let path = try fixture.write(
            plainListener + """
                map:
                  ldap:
                    uri: "ldap://127.0.0.1:389"
                    bind_dn: "cn=proxy"
                    password_file: bind.secret
                    base: "dc=example"
                """)
        let dump = ConfigDump.yaml(try ConfigLoader.load(path: path))
        XCTAssertTrue(dump.contains("password_file: \"\(fixture.path("bind.secret"))\""), dump)
        XCTAssertFalse(dump.contains("s3cret-bind-password"), dump)
    }

    func testStringsAreQuotedAndEscaped() {
        XCTAssertEqual(DumpNode.quoted("a \"b\" \\ c\n\u{1}"), "\"a \\\"b\\\" \\\\ c\\n\\x01\"")
    }
}
