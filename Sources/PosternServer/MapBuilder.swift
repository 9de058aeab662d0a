import PosternConfig
import PosternLDAP
import PosternMap

/// Builds the map the config describes: the sources in `map.order` (files, regex files, LDAP) behind
/// the cache (when a directory is used), the default servers with consistent hashing, and user names.
enum MapBuilder {
    static func build(
        _ config: MapConfig, metrics: MapMetricsSink = .none, clock: any MapClock = SystemClock(),
        refusals: MapRefusalSink = .none
    ) throws(RuntimeError) -> MapDirector {
        try buildMeasured(config, metrics: metrics, clock: clock, refusals: refusals).map
    }

    /// The map, and its sources each wrapped in a `MeasuredMapSource` (timed; health for `/readyz`).
    static func buildMeasured(
        _ config: MapConfig, metrics: MapMetricsSink = .none, clock: any MapClock = SystemClock(),
        refusals: MapRefusalSink = .none
    ) throws(RuntimeError) -> (map: MapDirector, sources: [MeasuredMapSource]) {
        var measured: [MeasuredMapSource] = []
        var sources: [any UserMap] = []
        var names: [String] = []
        func add(_ source: any UserMap, kind: String, name: String) {
            let wrapped = MeasuredMapSource(source, kind: kind, name: name, metrics: metrics)
            measured.append(wrapped)
            sources.append(wrapped)
            names.append(name)
        }
        for kind in config.order {
            switch kind {
            case .file:
                for path in config.files {
                    let file: FileMap
                    do {
                        file = try FileMap(path: path)
                    } catch {
                        throw RuntimeError("map.file: \(error)")
                    }
                    add(file, kind: "file", name: "file \(path)")
                }
            case .regex:
                for path in config.regexFiles {
                    do {
                        add(
                            try RegexMap(path: path, matchOrder: config.regexMatch, refusals: refusals), kind: "regex",
                            name: "regex \(path) (\(config.regexMatch.rawValue) match wins)")
                    } catch {
                        throw RuntimeError("map.regex: \(error)")
                    }
                }
            case .ldap:
                guard let ldap = config.ldap else { continue }
                let settings: LDAPSettings
                do {
                    settings = try LDAPSettings(ldap, domainDelimiter: config.username.domainDelimiter)
                } catch {
                    throw RuntimeError(error.message)
                }
                add(
                    LDAPMap(settings: settings, metrics: metrics, clock: clock), kind: "ldap",
                    name: "ldap \(ldap.uris.joined(separator: " "))")
            }
        }
        var chain: any UserMap = ChainedMap(sources: sources, defaultServers: [])
        if config.ldap != nil && config.cache.ttl > 0 {
            let cache = MapCache(
                MapCache.Settings(
                    ttl: config.cache.ttl, negativeTTL: config.cache.negativeTTL, staleTTL: config.cache.staleTTL,
                    capacity: config.cache.size),
                clock: clock)
            let byIP =
                Template.uses(config.ldap?.filter ?? "", "client_ip")
                || Template.uses(config.username.keyTemplate, "client_ip")
            chain = CachedMap(source: chain, cache: cache, keyByClientIP: byIP, metrics: metrics)
            names.append(
                "(behind a cache: ttl \(config.cache.ttl) s, negative \(config.cache.negativeTTL) s, "
                    + "stale \(config.cache.staleTTL) s)")
        }
        var defaults: [BackendAddress] = []
        for text in config.defaultServers {
            guard let address = BackendAddress.parse(text) else {
                throw RuntimeError("map.default: bad server '\(text)'")
            }
            defaults.append(address)
        }
        let placement = defaults.isEmpty ? nil : makePlacement(config.hashing, servers: defaults)
        let map = MapDirector(
            policy: UsernamePolicy(config.username), sources: chain, sourceNames: names, placement: placement,
            hashingName: config.hashing.rawValue, allowedBackends: config.allowedBackends, refusals: refusals)
        return (map, measured)
    }
}
