import Foundation
import XCTest

@testable import PosternConfig

/// The client-identity and abuse keys of issue 10, exactly as the issue writes them, and their errors.
final class ConfigGuardTests: XCTestCase {
    func testTheIssueExampleLoadsAsWritten() throws {
        let fixture = try ConfigFixture()
        let path = try fixture.write(
            """
            listeners:
              - name: imap
                protocol: imap
                listen: ["0.0.0.0:143"]
                proxy_protocol: { accept_from: ["10.0.0.0/8"] }   # optional
                backend:
                  port: 143
                  tls: none
                  send_proxy: v2                  # optional: none | v1 | v2
                  forward_client: true            # optional
            limits:
              max_connections: 10000
              max_connections_per_ip: 20
              max_preauth_per_ip: 10
              max_sessions_per_user: 10
              tls_handshake_timeout: 10
              auth_failure_delay: { initial: 2, max: 15 }
              trusted_networks: ["127.0.0.0/8"]
            map:
              default: ["10.1.0.5"]
              allowed_backends: ["10.1.0.0/16", "*.mail.example.org"]   # optional
            """)
        let config = try ConfigLoader.load(path: path)
        let listener = try XCTUnwrap(config.listeners.first)
        XCTAssertEqual(listener.proxyProtocol, ProxyProtocolConfig(acceptFrom: NetworkSet(parsing: ["10.0.0.0/8"])!))
        XCTAssertEqual(
            listener.backend, BackendEndpointConfig(port: 143, tls: .none, sendProxy: .v2, forwardClient: true))
        let limits = config.limits
        XCTAssertEqual(limits.maxConnections, 10000)
        XCTAssertEqual(limits.maxConnectionsPerIP, 20)
        XCTAssertEqual(limits.maxPreauthPerIP, 10)
        XCTAssertEqual(limits.maxSessionsPerUser, 10)
        XCTAssertEqual(limits.tlsHandshakeTimeout, 10)
        XCTAssertEqual(limits.authFailureDelay, AuthFailureDelay(initial: 2, max: 15))
        XCTAssertTrue(limits.trustedNetworks.contains("127.0.0.5"))
        let allowed = try XCTUnwrap(config.map.allowedBackends)
        XCTAssertTrue(allowed.permits(host: "10.1.200.1"))
        XCTAssertTrue(allowed.permits(host: "imap1.mail.example.org"))
        XCTAssertFalse(allowed.permits(host: "10.0.0.7"))
    }

    func testDefaultsWithoutTheNewKeys() throws {
        let fixture = try ConfigFixture()
        let config = try ConfigLoader.load(path: try fixture.write(plainListener))
        let limits = config.limits
        XCTAssertEqual(limits.maxConnections, 10000)
        XCTAssertNil(limits.maxConnectionsPerIP)
        XCTAssertNil(limits.maxPreauthPerIP)
        XCTAssertNil(limits.maxSessionsPerUser)
        XCTAssertEqual(limits.tlsHandshakeTimeout, 10)
        XCTAssertEqual(limits.authFailureDelay, AuthFailureDelay(initial: 2, max: 15))
        XCTAssertTrue(limits.trustedNetworks.isEmpty)
        XCTAssertNil(config.listeners[0].proxyProtocol)
        XCTAssertEqual(config.listeners[0].backend.sendProxy, .none)
        XCTAssertFalse(config.listeners[0].backend.forwardClient)
        XCTAssertNil(config.map.allowedBackends)
    }

    func testMaxSessionsStaysAnAliasOfMaxConnections() throws {
        let fixture = try ConfigFixture()
        let config = try ConfigLoader.load(path: try fixture.write(plainListener + "limits: { max_sessions: 42 }\n"))
        XCTAssertEqual(config.limits.maxConnections, 42)
        XCTAssertEqual(config.limits.maxSessions, 42)
        let issues = try fixture.issues(plainListener + "limits:\n  max_sessions: 5\n  max_connections: 6\n")
        assertIssue(issues, line: 8, key: "limits.max_connections", contains: "max_sessions (line 7) is another name")
    }

    func testBadLimitValuesNameTheirLine() throws {
        let fixture = try ConfigFixture()
        let issues = try fixture.issues(
            plainListener + """
                limits:
                  max_connections_per_ip: 0
                  max_preauth_per_ip: many
                  max_sessions_per_user: -1
                  tls_handshake_timeout: 0
                  trusted_networks: ["127.0.0.0/8", "10.1.2.3/8", "localhost"]
                """)
        assertIssue(issues, line: 7, key: "limits.max_connections_per_ip", contains: "out of range")
        assertIssue(issues, line: 8, key: "limits.max_preauth_per_ip", contains: "expected an integer")
        assertIssue(issues, line: 9, key: "limits.max_sessions_per_user", contains: "out of range")
        assertIssue(issues, line: 10, key: "limits.tls_handshake_timeout", contains: "out of range")
        assertIssue(issues, line: 11, key: "limits.trusted_networks[1]", contains: "bits set past the prefix")
        assertIssue(issues, line: 11, key: "limits.trusted_networks[2]", contains: "not an IPv4 or IPv6 address")
    }

    func testAuthFailureDelayIsChecked() throws {
        let fixture = try ConfigFixture()
        var issues = try fixture.issues(plainListener + "limits:\n  auth_failure_delay: { initial: 20, max: 15 }\n")
        assertIssue(issues, line: 7, key: "limits.auth_failure_delay.max", contains: "less than initial")
        issues = try fixture.issues(plainListener + "limits:\n  auth_failure_delay: { initial: 2, mux: 15 }\n")
        assertIssue(issues, line: 7, key: "limits.auth_failure_delay.mux", contains: "did you mean 'max'?")
        let off = try ConfigLoader.load(
            path: try fixture.write(plainListener + "limits: { auth_failure_delay: { initial: 0 } }\n"))
        XCTAssertEqual(off.limits.authFailureDelay, AuthFailureDelay(initial: 0, max: 15))
    }

    func testProxyProtocolNeedsNetworks() throws {
        let fixture = try ConfigFixture()
        let listener = """
            listeners:
              - name: imap
                protocol: imap
                listen: ["127.0.0.1:1143"]
                backend: { port: 143, send_proxy: v3, forward_client: maybe }

            """
        var issues = try fixture.issues(
            listener.replacingOccurrences(of: "    backend:", with: "    proxy_protocol: {}\n    backend:"))
        assertIssue(issues, line: 5, key: "listeners[0].proxy_protocol.accept_from", contains: "missing required key")
        assertIssue(issues, line: 6, key: "listeners[0].backend.send_proxy", contains: "allowed values: none, v1, v2")
        assertIssue(issues, line: 6, key: "listeners[0].backend.forward_client", contains: "expected true or false")
        issues = try fixture.issues(
            listener.replacingOccurrences(
                of: "    backend:", with: "    proxy_protocol: { accept_from: [] }\n    backend:"))
        assertIssue(issues, line: 5, key: "listeners[0].proxy_protocol.accept_from", contains: "at least one network")
        issues = try fixture.issues(
            listener.replacingOccurrences(
                of: "    backend:", with: "    proxy_protocol: { accept_from: \"10/8\" }\n    backend:"))
        assertIssue(issues, line: 5, key: "listeners[0].proxy_protocol.accept_from", contains: "not an IPv4 or IPv6")
    }

    func testAllowedBackendsAreCheckedAndCoverTheDefaults() throws {
        let fixture = try ConfigFixture()
        var issues = try fixture.issues(
            plainListener + """
                map:
                  default: ["10.1.0.5", "10.9.0.1:1143", "imap.other.org"]
                  allowed_backends: ["10.1.0.0/16", "*.", "a b"]
                """)
        assertIssue(issues, line: 8, key: "map.allowed_backends[1]", contains: "bad wildcard")
        assertIssue(issues, line: 8, key: "map.allowed_backends[2]", contains: "is not a host name")
        issues = try fixture.issues(
            plainListener + """
                map:
                  default: ["10.1.0.5", "10.9.0.1:1143", "imap.other.org"]
                  allowed_backends: ["10.1.0.0/16"]
                """)
        assertIssue(issues, line: 7, key: "map.default[1]", contains: "'10.9.0.1' is not in map.allowed_backends")
        assertIssue(issues, line: 7, key: "map.default[2]", contains: "'imap.other.org' is not in map.allowed_backends")
        XCTAssertEqual(issues.count, 2)
        issues = try fixture.issues(plainListener + "map:\n  allowed_backends: []\n")
        assertIssue(issues, line: 7, key: "map.allowed_backends", contains: "at least one entry")
    }
}
