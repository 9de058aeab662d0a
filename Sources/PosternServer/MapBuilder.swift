import PosternConfig
import PosternLDAP
import PosternMap

/// Builds the map the config describes: the sources in `map.order` (files, regex files, LDAP) behind
/// the cache (when a directory is used), the default servers with consistent hashing, and user names.
enum MapBuilder {
    static func build(
        _ config: MapConfig, metrics: MapMetricsSink = .none, clock: any MapClock = SystemClock(),
        refusals: MapRefusalSink = .none, loadedFile: (FileMap) -> Void = { _ in }
    ) throws(RuntimeError) -> MapDirector {
        var sources: [any UserMap] = []
        var names: [String] = []
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
                    loadedFile(file)
                    sources.append(file)
                    names.append("file \(path)")
                }
            case .regex:
                for path in config.regexFiles {
                    do {
                        sources.append(try RegexMap(path: path, matchOrder: config.regexMatch, refusals: refusals))
                    } catch {
                        throw RuntimeError("map.regex: \(error)")
                    }
                    names.append("regex \(path) (\(config.regexMatch.rawValue) match wins)")
                }
            case .ldap:
                guard let ldap = config.ldap else { continue }
                let settings: LDAPSettings
                do {
                    settings = try LDAPSettings(ldap, domainDelimiter: config.username.domainDelimiter)
                } catch {
                    throw RuntimeError(error.message)
                }
                sources.append(LDAPMap(settings: settings, metrics: metrics, clock: clock))
                names.append("ldap \(ldap.uris.joined(separator: " "))")
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
        return MapDirector(
            policy: UsernamePolicy(config.username), sources: chain, sourceNames: names, placement: placement,
            hashingName: config.hashing.rawValue, allowedBackends: config.allowedBackends, refusals: refusals)
    }
}
