import Foundation
import XCTest

@testable import PosternConfig

/// Configurations that must load, and the exact structs they must produce.
final class ConfigLoaderValidTests: XCTestCase {
    func testFullConfigParsesIntoExpectedStruct() throws {
        let fixture = try ConfigFixture()
        let path = try fixture.write(
            """
            server:
              workers: 2
              admin_listen: "127.0.0.1:9100"
              log_level: debug
            listeners:
              - name: imap
                protocol: imap
                listen: ["127.0.0.1:1143", "[::1]:1143"]
                tls: starttls
                backend: { port: 143, tls: none }
              - name: imaps
                protocol: imap
                listen: 0.0.0.0:1993
                tls: implicit
                backend:
                  port: 993
                  tls: implicit
              - name: pop3.main
                protocol: pop3
                listen: ["localhost:1110"]
                tls: starttls-required
                backend: { port: 110, tls: starttls }
              - name: sieve_1
                protocol: managesieve
                listen: ["[::]:4190"]
                backend: { port: 4190 }
            tls:
              certificate: demo/proxy.pem
              key: ./demo/../demo/proxy.key
              min_version: "1.3"
              ciphers: "ECDHE+AESGCM"
              ciphersuites: "TLS_AES_256_GCM_SHA384"
              prefer_server_ciphers: false
              dh_params: demo/dh2048.pem
            backend_tls:
              ca_file: demo/ca.pem
              verify: false
              min_version: 1.3
              ciphers: "HIGH"
            map:
              file: demo/users.map
              default: "[2001:db8::1]:143"
            limits:
              login_timeout: 30
              idle_timeout: 2.5
              login_attempts: 5
              connect_timeout: 7
              max_line: 1024
              buffer_size: 4096
              max_sessions: 50
            """)
        let config = try ConfigLoader.load(path: path)

        var server = ServerSettings()
        server.workers = 2
        server.adminListen = SocketAddressSpec(host: "127.0.0.1", port: 9100)
        server.logLevel = "debug"
        var tls = ServerTLSConfig(certificate: fixture.path("demo/proxy.pem"), key: fixture.path("demo/proxy.key"))
        tls.minVersion = .v1_3
        tls.ciphers = "ECDHE+AESGCM"
        tls.ciphersuites = "TLS_AES_256_GCM_SHA384"
        tls.preferServerCiphers = false
        tls.dhParams = .file(fixture.path("demo/dh2048.pem"))
        var backendTLS = BackendTLSConfig()
        backendTLS.caFile = fixture.path("demo/ca.pem")
        backendTLS.verify = false
        backendTLS.minVersion = .v1_3
        backendTLS.ciphers = "HIGH"
        var map = MapConfig()
        map.file = fixture.path("demo/users.map")
        map.defaultServer = "[2001:db8::1]:143"
        var limits = Limits()
        limits.loginTimeout = 30
        limits.idleTimeout = 2.5
        limits.loginAttempts = 5
        limits.connectTimeout = 7
        limits.maxLine = 1024
        limits.bufferSize = 4096
        limits.maxSessions = 50
        let listeners = [
            ListenerConfig(
                name: "imap", proto: .imap,
                listen: [SocketAddressSpec(host: "127.0.0.1", port: 1143), SocketAddressSpec(host: "::1", port: 1143)],
                tls: .starttls, backend: BackendEndpointConfig(port: 143, tls: .none)),
            ListenerConfig(
                name: "imaps", proto: .imap, listen: [SocketAddressSpec(host: "0.0.0.0", port: 1993)], tls: .implicit,
                backend: BackendEndpointConfig(port: 993, tls: .implicit)),
            ListenerConfig(
                name: "pop3.main", proto: .pop3, listen: [SocketAddressSpec(host: "localhost", port: 1110)],
                tls: .starttlsRequired, backend: BackendEndpointConfig(port: 110, tls: .starttls)),
            ListenerConfig(
                name: "sieve_1", proto: .managesieve, listen: [SocketAddressSpec(host: "::", port: 4190)], tls: .none,
                backend: BackendEndpointConfig(port: 4190, tls: .none)),
        ]
        let expected = PosternConfig(
            sourcePath: fixture.path("postern.yaml"), server: server, listeners: listeners, tls: tls,
            backendTLS: backendTLS, map: map, limits: limits)
        XCTAssertEqual(config, expected)
        XCTAssertEqual(config.listeners[0].listen[1].description, "[::1]:1143")
    }

    func testMinimalConfigFillsDefaults() throws {
        let fixture = try ConfigFixture()
        let path = try fixture.write(plainListener)
        let config = try ConfigLoader.load(path: path)
        XCTAssertEqual(config.server, ServerSettings())
        XCTAssertNil(config.tls)
        XCTAssertEqual(config.backendTLS, BackendTLSConfig())
        XCTAssertEqual(config.map, MapConfig())
        XCTAssertEqual(config.limits, Limits())
        XCTAssertEqual(config.limits.loginTimeout, 60)
        XCTAssertEqual(config.limits.maxSessions, 10000)
        XCTAssertEqual(
            config.listeners,
            [
                ListenerConfig(
                    name: "imap", proto: .imap, listen: [SocketAddressSpec(host: "127.0.0.1", port: 1143)],
                    tls: .none, backend: BackendEndpointConfig(port: 143, tls: .none))
            ])
    }

    func testTLSBlockDefaultsAndEmptyOptionalBlocks() throws {
        let fixture = try ConfigFixture()
        let path = try fixture.write(
            plainListener + """
                tls:
                  certificate: demo/proxy.pem
                  key: demo/proxy.key
                  min_version: 1.2
                backend_tls:
                map: {}
                limits:
                server: ~
                """)
        let config = try ConfigLoader.load(path: path)
        var tls = ServerTLSConfig(certificate: fixture.path("demo/proxy.pem"), key: fixture.path("demo/proxy.key"))
        tls.minVersion = .v1_2
        XCTAssertEqual(config.tls, tls)
        XCTAssertEqual(config.tls?.ciphers, defaultTLS12Ciphers)
        XCTAssertEqual(config.tls?.ciphersuites, defaultTLS13Ciphersuites)
        XCTAssertEqual(config.tls?.dhParams, .auto)
        XCTAssertEqual(config.tls?.preferServerCiphers, true)
        XCTAssertEqual(config.backendTLS, BackendTLSConfig())
        XCTAssertEqual(config.map, MapConfig())
        XCTAssertEqual(config.limits, Limits())
    }

    func testRelativePathsResolveAgainstTheConfigFolderNotTheWorkingDirectory() throws {
        let fixture = try ConfigFixture()
        let yaml =
            plainListener + """
                map:
                  file: ../demo/users.map
                  default: mail.example
                """
        try FileManager.default.createDirectory(
            atPath: fixture.path("etc"), withIntermediateDirectories: true)
        let path = try fixture.write(yaml, name: "etc/postern.yaml")
        let config = try ConfigLoader.load(path: path)
        XCTAssertEqual(config.map.file, fixture.path("demo/users.map"))
        XCTAssertEqual(config.map.defaultServer, "mail.example")
        XCTAssertEqual(config.sourcePath, fixture.path("etc/postern.yaml"))

        // parse(yaml:path:) uses the given path the same way, without reading it.
        let parsed = try ConfigLoader.parse(yaml: yaml, path: fixture.path("etc/other.yaml"))
        XCTAssertEqual(parsed.map.file, fixture.path("demo/users.map"))
        XCTAssertEqual(parsed.sourcePath, fixture.path("etc/other.yaml"))
    }

    func testAcceptedValueForms() throws {
        let fixture = try ConfigFixture()
        let path = try fixture.write(
            """
            listeners:
              - name: a
                protocol: imap
                listen: "[fe80::1%eth0]:1143"
                backend: { port: 143 }
            map: { default: "host.example:1143" }
            limits: { idle_timeout: 0.5, login_attempts: 1, max_line: 512, buffer_size: 16777216 }
            """)
        let config = try ConfigLoader.load(path: path)
        XCTAssertEqual(config.listeners[0].listen, [SocketAddressSpec(host: "fe80::1%eth0", port: 1143)])
        XCTAssertEqual(config.map.defaultServer, "host.example:1143")
        XCTAssertEqual(config.limits.idleTimeout, 0.5)
        XCTAssertEqual(config.limits.maxLine, 512)
        XCTAssertEqual(config.limits.bufferSize, 16_777_216)
    }

    func testIssueDescriptions() {
        let issue = ConfigIssue(file: "p.yaml", line: 3, column: 5, key: "limits.max_line", message: "too big")
        XCTAssertEqual(issue.description, "p.yaml:3:5: limits.max_line: too big")
        let fileLevel = ConfigIssue(file: "p.yaml", line: 0, column: 0, key: "", message: "not found")
        XCTAssertEqual(fileLevel.description, "p.yaml:0:0: not found")
        XCTAssertEqual(
            ConfigErrors(issues: [issue, fileLevel]).description,
            "p.yaml:3:5: limits.max_line: too big\np.yaml:0:0: not found")
    }

    func testEditDistanceAndSuggestions() {
        XCTAssertEqual(editDistance("login_timout", "login_timeout"), 1)
        XCTAssertEqual(editDistance("", "abc"), 3)
        XCTAssertEqual(editDistance("tsl", "tls"), 2)
        XCTAssertEqual(closestMatch(to: "lissteners", among: SchemaWalker.rootKeys), "listeners")
        XCTAssertNil(closestMatch(to: "frobnicate", among: SchemaWalker.rootKeys))
        XCTAssertNil(closestMatch(to: "x", among: ["tls"]))
    }
}
