import PosternConfig
import PosternIO
import PosternMap
import XCTest

@testable import PosternServer

/// Bounded label values: backends named by the configuration keep their label, the rest are `other`;
/// TLS failure reasons fall into a fixed set; every known label value is exported at zero.
final class MetricLabelTests: XCTestCase {
    private func config(defaults: [String] = [], backends: [BackendHostConfig] = [], ports: [Int] = [143])
        -> PosternConfig
    {
        var map = MapConfig()
        map.defaultServers = defaults
        let listeners = ports.enumerated().map { index, port in
            ListenerConfig(
                name: "l\(index)", proto: .imap, listen: [SocketAddressSpec(host: "127.0.0.1", port: 1000 + index)],
                tls: .none, backend: BackendEndpointConfig(port: port, tls: .none))
        }
        return PosternConfig(
            sourcePath: "/t.yaml", server: ServerSettings(), listeners: listeners, tls: nil,
            backendTLS: BackendTLSConfig(), map: map, limits: Limits(), backends: backends)
    }

    func testNamedBackendsKeepTheirLabelAndTheRestAreOther() {
        let labels = BackendLabels(
            config: config(
                defaults: ["imap1.example", "10.0.0.2:1143"],
                backends: [BackendHostConfig(host: "Secure.Example", tls: BackendTLSConfig())], ports: [143, 993]),
            listed: [BackendAddress(host: "fs.example"), BackendAddress(host: "::1", port: 143)])
        XCTAssertEqual(
            Set(labels.labels),
            [
                "imap1.example:143", "imap1.example:993", "10.0.0.2:1143", "secure.example:143", "secure.example:993",
                "fs.example:143", "fs.example:993", "[::1]:143",
            ])
        XCTAssertEqual(labels.label(for: "imap1.example:143"), "imap1.example:143")
        XCTAssertEqual(labels.label(for: "IMAP1.example:993"), "imap1.example:993", "host names fold case")
        XCTAssertEqual(labels.label(for: "imap1.example:110"), BackendLabels.other, "a port no listener uses")
        XCTAssertEqual(labels.label(for: "ldap-chose-me.example:143"), BackendLabels.other)
    }

    func testAtMostALimitOfNamedBackends() {
        let many = Set((0..<(BackendLabels.limit + 50)).map { BackendAddress(host: "h\($0).example") })
        let labels = BackendLabels(config: config(), listed: many)
        XCTAssertEqual(labels.labels.count, BackendLabels.limit)
    }

    func testTLSFailureReasonsFromOpenSSL() {
        let cases: [(String?, TLSFailureReason)] = [
            ("unsupported protocol", .protocolVersion), ("wrong version number", .protocolVersion),
            ("tlsv1 alert protocol version", .protocolVersion), ("no shared cipher", .noSharedCipher),
            ("no suitable signature algorithm", .noSharedCipher), ("tlsv1 alert unknown ca", .unknownCA),
            ("sslv3 alert bad certificate", .badCertificate), ("peer did not return a certificate", .badCertificate),
            ("certificate verify failed", .badCertificate), ("http request", .notTLS),
            ("packet length too long", .notTLS), ("unexpected eof while reading", .other), (nil, .other),
            ("no application protocol", .noApplicationProtocol), ("callback failed", .unrecognizedName),
        ]
        for (reason, expected) in cases {
            XCTAssertEqual(TLSFailureReason(openSSLReason: reason), expected, reason ?? "nil")
        }
        XCTAssertEqual(TLSFailureReason(IOError(.tlsHandshake, "x", tlsReason: "no shared cipher")), .noSharedCipher)
    }

    func testKnownLabelValuesAreExportedAtZeroAndTheSinkLimitsBackends() throws {
        let stats = Stats()
        var cfg = config(defaults: ["a.example"])
        cfg.listeners[0].name = "imap"
        let runtime = try Runtime(config: cfg, generation: 4, map: FakeMap(), dialler: FakeDialler())
        stats.configure(runtime)
        XCTAssertEqual(stats.value(of: #"postern_sessions_total{listener="imap"}"#), 0)
        XCTAssertEqual(
            stats.value(of: #"postern_login_duration_seconds_count{listener="imap",result="unknown-user"}"#), 0)
        XCTAssertEqual(
            stats.value(of: #"postern_tls_handshake_failures_total{listener="imap",reason="unknown_ca"}"#), 0)
        XCTAssertEqual(stats.value(of: #"postern_backend_connect_duration_seconds_count{backend="a.example:143"}"#), 0)
        XCTAssertEqual(stats.value(of: #"postern_backend_skipped_total{backend="other"}"#), 0)
        XCTAssertEqual(stats.value(of: "postern_config_generation"), 4)
        XCTAssertEqual(stats.value(of: #"postern_map_cache_total{result="stale"}"#), 0)
        let sink = stats.mapMetrics
        sink.count("postern_backend_skipped_total", [("backend", "a.example:143")])
        sink.count("postern_backend_skipped_total", [("backend", "from-ldap.example:143")])
        sink.count("postern_backend_breaker_opened_total", [("backend", "from-ldap.example:143")])
        sink.count("postern_map_cache_total", [("result", "hit")])
        sink.count("postern_map_cache_evictions_total", [])
        sink.lookupDuration("ldap", 0.003)
        XCTAssertEqual(stats.value(of: #"postern_backend_skipped_total{backend="a.example:143"}"#), 1)
        XCTAssertEqual(stats.value(of: #"postern_backend_skipped_total{backend="other"}"#), 1)
        XCTAssertNil(stats.value(of: #"postern_backend_skipped_total{backend="from-ldap.example:143"}"#))
        XCTAssertEqual(stats.value(of: #"postern_backend_breaker_opened_total{backend="other"}"#), 1)
        XCTAssertEqual(stats.value(of: #"postern_map_cache_total{result="hit"}"#), 1)
        XCTAssertEqual(stats.value(of: "postern_map_cache_evictions_total"), 1)
        XCTAssertEqual(stats.value(of: #"postern_map_lookup_duration_seconds_count{source="ldap"}"#), 1)
        XCTAssertEqual(stats.value(of: #"postern_map_lookup_duration_seconds_bucket{source="ldap",le="0.005"}"#), 1)
        XCTAssertEqual(stats.value(of: #"postern_map_lookup_duration_seconds_bucket{source="ldap",le="0.0025"}"#), 0)
        // A family counted both ways (a table handle and the sink) is one series with one help text.
        sink.count("postern_connections_refused_total", [("listener", "imap"), ("reason", "max_connections")])
        stats.table.listener("imap").refusedConnection(.maxConnections)
        XCTAssertEqual(
            stats.value(of: #"postern_connections_refused_total{listener="imap",reason="max_connections"}"#), 2)
        sink.count("postern_logins_delayed_total", [("listener", "imap")])
        let text = String(decoding: stats.render(), as: UTF8.self)
        XCTAssertTrue(text.contains("# HELP postern_logins_delayed_total Logins that waited"), text)
    }
}
