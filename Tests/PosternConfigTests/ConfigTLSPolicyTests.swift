import Foundation
import XCTest

@testable import PosternConfig

/// The TLS policy keys: `tls:` in full, a listener's `tls_settings:` override, `backend_tls:` and `backends:`.
final class ConfigTLSPolicyTests: XCTestCase {
    private let tlsBlock = """
        tls:
          certificate: demo/proxy.pem
          key: demo/proxy.key

        """

    private func listeners(_ extra: String = "") -> String {
        """
        listeners:
          - name: imaps
            protocol: imap
            listen: ["127.0.0.1:1993"]
            tls: implicit
            backend: { port: 143 }
          - name: imaps13
            protocol: imap
            listen: ["127.0.0.1:2993"]
            tls: implicit
            backend: { port: 143 }
        \(extra)

        """
    }

    private func load(_ fixture: ConfigFixture, _ yaml: String) throws -> PosternConfig {
        try ConfigLoader.load(path: try fixture.write(yaml))
    }

    func testSecureDefaults() throws {
        let fixture = try ConfigFixture()
        let config = try load(fixture, listeners() + tlsBlock)
        let tls = try XCTUnwrap(config.tls)
        XCTAssertEqual(tls.minVersion, .v1_2)
        XCTAssertNil(tls.maxVersion)
        XCTAssertEqual(tls.ciphers, "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20")
        XCTAssertEqual(tls.groups, defaultTLSGroups)
        XCTAssertTrue(tls.preferServerCiphers)
        XCTAssertEqual(tls.dhParams, .auto)
        XCTAssertEqual(tls.sessionResumption, .tickets)
        XCTAssertEqual(tls.clientCertificates, .none)
        XCTAssertFalse(tls.strictSNI)
        XCTAssertTrue(config.backendTLS.verify)
        XCTAssertEqual(config.backends, [])
        XCTAssertNil(config.listeners[0].tlsSettings)
        XCTAssertEqual(config.serverTLS(for: config.listeners[0]), tls)
    }

    func testEveryServerKey() throws {
        let fixture = try ConfigFixture()
        let config = try load(
            fixture,
            listeners()
                + """
                tls:
                  certificate: demo/proxy.pem
                  key: demo/proxy.key
                  certificates:
                    - { certificate: demo/ca.pem, key: demo/proxy.key }
                    - certificate: demo/ca.pem
                      key: demo/proxy.key
                      server_names: ["Mail.Example.org", "*.example.net"]
                  min_version: "1.2"
                  max_version: 1.3
                  ciphers: "ECDHE+AESGCM"
                  ciphersuites: "TLS_AES_128_GCM_SHA256"
                  groups: "X25519:P-256"
                  prefer_server_ciphers: false
                  dh_params: demo/dh2048.pem
                  session_resumption: cache
                  session_lifetime: 600
                  ticket_key_rotation: 300
                  session_cache_size: 5000
                  client_certificates: optional
                  client_ca_file: demo/ca.pem
                  strict_sni: true
                """)
        let tls = try XCTUnwrap(config.tls)
        XCTAssertTrue(tls.strictSNI)
        XCTAssertEqual(tls.certificates.count, 2)
        XCTAssertEqual(tls.certificates[0].serverNames, [])
        XCTAssertEqual(tls.certificates[1].serverNames, ["mail.example.org", "*.example.net"])
        XCTAssertEqual(tls.certificates[1].certificate, fixture.path("demo/ca.pem"))
        XCTAssertEqual(tls.maxVersion, .v1_3)
        XCTAssertEqual(tls.ciphersuites, "TLS_AES_128_GCM_SHA256")
        XCTAssertEqual(tls.groups, "X25519:P-256")
        XCTAssertFalse(tls.preferServerCiphers)
        XCTAssertEqual(tls.dhParams, .file(fixture.path("demo/dh2048.pem")))
        XCTAssertEqual(tls.sessionResumption, .cache)
        XCTAssertEqual(tls.sessionLifetime, 600)
        XCTAssertEqual(tls.ticketKeyRotation, 300)
        XCTAssertEqual(tls.sessionCacheSize, 5000)
        XCTAssertEqual(tls.clientCertificates, .optional)
        XCTAssertEqual(tls.clientCAFile, fixture.path("demo/ca.pem"))
    }

    func testListenerOverrideInheritsTheRest() throws {
        let fixture = try ConfigFixture()
        let config = try load(
            fixture,
            listeners(
                """
                  - name: imap
                    protocol: imap
                    listen: ["127.0.0.1:1143"]
                    tls: starttls
                    tls_settings:
                      min_version: "1.3"
                      groups: X25519
                      strict_sni: true
                      key: demo/ca.pem
                      certificate: demo/dh2048.pem
                    backend: { port: 143 }
                """)
                + tlsBlock
                    + """
                      ciphers: "ECDHE+AESGCM"
                    """)
        let global = try XCTUnwrap(config.tls)
        let imap = config.listeners[2]
        XCTAssertEqual(imap.tls, .starttls, "the tls mode key still works as before")
        let own = try XCTUnwrap(imap.tlsSettings)
        XCTAssertEqual(own.minVersion, .v1_3)
        XCTAssertEqual(own.groups, "X25519")
        XCTAssertTrue(own.strictSNI)
        XCTAssertFalse(global.strictSNI, "strict_sni in tls_settings applies to that listener only")
        XCTAssertEqual(own.ciphers, "ECDHE+AESGCM", "inherited from tls:")
        XCTAssertEqual(own.certificate, fixture.path("demo/dh2048.pem"))
        XCTAssertEqual(own.key, fixture.path("demo/ca.pem"))
        XCTAssertEqual(config.serverTLS(for: imap), own)
        XCTAssertEqual(config.serverTLS(for: config.listeners[0]), global)
        XCTAssertEqual(global.minVersion, .v1_2)
    }

    func testListenerOverrideWithoutGlobalBlockNeedsItsOwnCertificate() throws {
        let fixture = try ConfigFixture()
        let good = try load(
            fixture,
            """
            listeners:
              - name: imaps
                protocol: imap
                listen: ["127.0.0.1:1993"]
                tls: implicit
                tls_settings: { certificate: demo/proxy.pem, key: demo/proxy.key }
                backend: { port: 143 }
            """)
        XCTAssertNil(good.tls)
        XCTAssertEqual(good.listeners[0].tlsSettings?.certificate, fixture.path("demo/proxy.pem"))

        let issues = try fixture.issues(
            """
            listeners:
              - name: imaps
                protocol: imap
                listen: ["127.0.0.1:1993"]
                tls: implicit
                tls_settings: { min_version: "1.3" }
                backend: { port: 143 }
            """)
        assertIssue(
            issues, line: 6, key: "listeners[0].tls_settings.certificate",
            contains: "missing required key 'certificate'")
        assertIssue(issues, line: 6, key: "listeners[0].tls_settings.key", contains: "missing required key 'key'")
    }

    func testServerKeyErrors() throws {
        let fixture = try ConfigFixture()
        let issues = try fixture.issues(
            listeners(
                """
                  - name: plain
                    protocol: imap
                    listen: ["127.0.0.1:1143"]
                    tls_settings: { min_version: "1.3" }
                    backend: { port: 143 }
                """)
                + tlsBlock
                    + """
                      min_version: "1.3"
                      max_version: "1.2"
                      session_resumption: sometimes
                      session_lifetime: 0
                      client_certificates: required
                      certificates:
                        - { certificate: demo/proxy.pem, key: demo/proxy.key, server_names: ["bad name", "ok.test"] }
                        - { certificate: demo/proxy.pem }
                      dh_params: demo/missing.pem
                      tls_settings: {}
                    """)
        assertIssue(issues, line: 15, key: "listeners[2].tls_settings", contains: "does not use TLS")
        // The listener's minimum meets the inherited maximum.
        assertIssue(issues, line: 15, key: "listeners[2].tls_settings.max_version", contains: "below min_version")
        assertIssue(issues, line: 21, key: "tls.max_version", contains: "below min_version")
        assertIssue(issues, line: 22, key: "tls.session_resumption", contains: "bad value 'sometimes'")
        assertIssue(issues, line: 23, key: "tls.session_lifetime", contains: "out of range")
        assertIssue(issues, line: 24, key: "tls.client_ca_file", contains: "needs client_ca_file")
        assertIssue(issues, line: 26, key: "tls.certificates[0].server_names[0]", contains: "not a server name")
        assertIssue(issues, line: 27, key: "tls.certificates[1].key", contains: "missing required key 'key'")
        assertIssue(issues, line: 28, key: "tls.dh_params", contains: "file not found")
        assertIssue(issues, line: 29, key: "tls.tls_settings", contains: "unknown key")
        XCTAssertEqual(issues.count, 10, issues.map(\.description).joined(separator: "\n"))
    }

    private let pinA = "3 1 1 " + String(repeating: "ab", count: 32)

    func testBackendsMergeOverBackendTLS() throws {
        let fixture = try ConfigFixture()
        try FileManager.default.createDirectory(
            atPath: fixture.path("demo/cas"), withIntermediateDirectories: true)
        let config = try load(
            fixture,
            plainListener
                + """
                backend_tls:
                  ca_file: demo/ca.pem
                  min_version: "1.3"
                  ciphers: "ECDHE+AESGCM"
                backends:
                  - host: 10.0.0.1
                    server_name: imap1.example.org
                    verify: false
                    pins: ["\(pinA)", "2 0 0 0102"]
                    allow_plaintext_fallback: true
                  - host: "10.0.0.1:993"
                    tls: implicit
                    ca_path: demo/cas
                    certificate: demo/proxy.pem
                    key: demo/proxy.key
                  - host: "[::1]:143"
                    max_version: "1.3"
                """)
        XCTAssertEqual(config.backendTLS.minVersion, .v1_3)
        XCTAssertEqual(config.backends.count, 3)
        let first = config.backends[0]
        XCTAssertEqual(first.host, "10.0.0.1")
        XCTAssertNil(first.port)
        XCTAssertEqual(first.serverName, "imap1.example.org")
        XCTAssertTrue(first.allowPlaintextFallback)
        XCTAssertFalse(first.tls.verify)
        XCTAssertEqual(first.tls.caFile, fixture.path("demo/ca.pem"), "inherited")
        XCTAssertEqual(first.tls.minVersion, .v1_3, "inherited")
        XCTAssertEqual(first.tls.pins.count, 2)
        XCTAssertEqual(first.tls.pins[0].usage, 3)
        XCTAssertEqual(first.tls.pins[0].data, [UInt8](repeating: 0xAB, count: 32))
        XCTAssertEqual(first.tls.pins[1], TLSAPinConfig(usage: 2, selector: 0, matchingType: 0, data: [1, 2]))
        let second = config.backends[1]
        XCTAssertEqual(second.port, 993)
        XCTAssertEqual(second.tlsMode, .implicit)
        XCTAssertEqual(second.tls.caPath, fixture.path("demo/cas"))
        XCTAssertTrue(second.tls.verify)
        XCTAssertFalse(second.allowPlaintextFallback, "off by default")
        XCTAssertEqual(second.tls.certificate, fixture.path("demo/proxy.pem"))
        XCTAssertEqual(config.backends[2].host, "::1")

        XCTAssertEqual(config.backendEntry(host: "10.0.0.1", port: 993), second, "the port-specific entry first")
        XCTAssertEqual(config.backendEntry(host: "10.0.0.1", port: 143), first)
        XCTAssertNil(config.backendEntry(host: "10.0.0.2", port: 143))
    }

    func testBackendErrors() throws {
        let fixture = try ConfigFixture()
        let issues = try fixture.issues(
            plainListener
                + """
                backend_tls:
                  verify: false
                  pins: "1 1 1 \(String(repeating: "ab", count: 32))"
                backends:
                  - host: 10.0.0.1
                    pins: ["3 1 1 abc", "5 1 1 ab", "3 1 1 zz", "3 1 1 \(String(repeating: "ab", count: 31))", "3 1"]
                  - host: 10.0.0.1
                    tls: starttlz
                    server_name: "not a name"
                    certificate: demo/proxy.pem
                    allow_plaintext_fallback: sometimes
                  - server_name: x.test
                  - host: "10.0.0.3:99999"
                    ca_path: demo/proxy.pem
                """)
        assertIssue(issues, line: 8, key: "backend_tls.pins", contains: "usage 0 or 1")
        assertIssue(issues, line: 11, key: "backends[0].pins[0]", contains: "bad pin data")
        assertIssue(issues, line: 11, key: "backends[0].pins[1]", contains: "bad pin usage '5'")
        assertIssue(issues, line: 11, key: "backends[0].pins[2]", contains: "bad pin data 'zz'")
        assertIssue(issues, line: 11, key: "backends[0].pins[3]", contains: "needs 32")
        assertIssue(issues, line: 11, key: "backends[0].pins[4]", contains: "expected 'usage selector")
        assertIssue(issues, line: 12, key: "backends[1].host", contains: "already configured at line 10")
        assertIssue(issues, line: 13, key: "backends[1].tls", contains: "bad value 'starttlz'")
        assertIssue(issues, line: 14, key: "backends[1].server_name", contains: "not a host name")
        assertIssue(issues, line: 12, key: "backends[1].key", contains: "missing required key 'key'")
        assertIssue(issues, line: 16, key: "backends[1].allow_plaintext_fallback", contains: "expected true or false")
        assertIssue(issues, line: 17, key: "backends[2].host", contains: "missing required key 'host'")
        assertIssue(issues, line: 18, key: "backends[3].host", contains: "99999")
        assertIssue(issues, line: 19, key: "backends[3].ca_path", contains: "folder not found")
    }
}
