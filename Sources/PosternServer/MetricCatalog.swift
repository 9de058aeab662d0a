/// Every metric family Postern exports, with its help text and (for histograms) its buckets, in one place:
/// swift-prometheus stops the process when one name is registered with two help texts, so every handle is
/// made from these. Documented in docs/operations.md.
enum MetricCatalog {
    /// A family's name and help text.
    struct Family: Sendable {
        let name: String
        let help: String
    }

    static let sessionsActive = Family(name: "postern_sessions_active", help: "Live client sessions.")
    static let sessionsTotal = Family(name: "postern_sessions_total", help: "Client connections accepted.")
    static let sessionOutcomes = Family(
        name: "postern_session_outcomes_total", help: "Sessions ended, by outcome (the session log line's outcome).")
    static let logins = Family(name: "postern_logins_total", help: "Login attempts, by result.")
    static let loginDuration = Family(
        name: "postern_login_duration_seconds",
        help: "Time from the client's login command to the backend's answer (or the refusal).")
    static let clientBytes = Family(
        name: "postern_client_bytes_total", help: "Bytes on client sockets, counted when a session ends.")
    static let relayedBytes = Family(
        name: "postern_relayed_bytes_total", help: "Bytes relayed between clients and backends, counted as they flow.")
    static let reloads = Family(name: "postern_reloads_total", help: "Configuration reloads, by result.")
    static let openFDs = Family(name: "postern_open_fds", help: "Open file descriptors of the process.")
    static let buildInfo = Family(name: "postern_build_info", help: "Always 1; the version is in the label.")
    static let configGeneration = Family(
        name: "postern_config_generation", help: "Generation of the configuration in service (1 at start).")
    static let lastReloadSuccess = Family(
        name: "postern_config_last_reload_success_timestamp_seconds",
        help: "When the configuration in service was loaded (Unix time).")
    static let certificateExpiry = Family(
        name: "postern_tls_certificate_expiry_timestamp_seconds",
        help: "When a listener's certificate expires (Unix time; the earliest for one subject).")
    static let tlsHandshakeFailures = Family(
        name: "postern_tls_handshake_failures_total", help: "Client TLS handshakes that failed, by reason.")
    static let connectionsRefused = Family(
        name: "postern_connections_refused_total", help: "Client connections closed at accept, by reason.")
    static let backendConnectDuration = Family(
        name: "postern_backend_connect_duration_seconds", help: "Time to open a TCP connection to a backend.")
    static let backendBreakerOpened = Family(
        name: "postern_backend_breaker_opened_total", help: "Times a backend's circuit breaker opened.")
    static let backendSkipped = Family(
        name: "postern_backend_skipped_total", help: "Logins that skipped a backend because its breaker was open.")
    static let mapLookupDuration = Family(
        name: "postern_map_lookup_duration_seconds", help: "Time a map source took to answer a lookup.")
    static let mapCache = Family(name: "postern_map_cache_total", help: "Map cache lookups, by result.")
    static let mapCacheEvictions = Family(
        name: "postern_map_cache_evictions_total", help: "Entries dropped to keep the map cache within its size.")
    static let ldapRequests = Family(name: "postern_ldap_requests_total", help: "LDAP searches, by result.")

    static let loginsDelayed = Family(
        name: "postern_logins_delayed_total", help: "Logins that waited for the failed-login delay before routing.")
    static let proxyRefused = Family(
        name: "postern_proxy_refused_total", help: "Connections a PROXY-protocol listener refused, by reason.")

    /// Every family, so that a name counted through `MapMetricsSink` gets the help text it is registered with
    /// everywhere else (two help texts for one name stop the process).
    static let all: [Family] = [
        sessionsActive, sessionsTotal, sessionOutcomes, logins, loginDuration, clientBytes, relayedBytes, reloads,
        openFDs, buildInfo, configGeneration, lastReloadSuccess, certificateExpiry, tlsHandshakeFailures,
        connectionsRefused, backendConnectDuration, backendBreakerOpened, backendSkipped, mapLookupDuration,
        mapCache, mapCacheEvictions, ldapRequests, loginsDelayed, proxyRefused,
    ]

    /// The family called `name`, by name.
    static let byName: [String: Family] = Dictionary(all.map { ($0.name, $0) }) { first, _ in first }

    /// Buckets of the login histogram: a cached map and a near backend take milliseconds, a directory or a
    /// far backend up to seconds.
    static let loginBuckets: [Duration] = seconds([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30])
    /// Buckets of the backend connect histogram.
    static let connectBuckets: [Duration] = seconds([
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    ])
    /// Buckets of the map lookup histogram: files answer in microseconds, a directory in milliseconds.
    static let lookupBuckets: [Duration] = seconds([
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
    ])

    private static func seconds(_ values: [Double]) -> [Duration] {
        values.map { Duration.nanoseconds(Int64(($0 * 1e9).rounded())) }
    }
}
