import PosternConfig

/// The whole routing decision for a login name: the lookup key, the sources (behind the cache), the
/// default servers placed by consistent hashing, and the name to log in with at the backend.
///
/// Its `lookup` takes the client's login name and returns a route whose `backendUser` is always set. A
/// route naming a backend outside `allowedBackends` (from any source, defaults included) is refused by
/// throwing ``RouteRefused``.
public struct MapDirector: UserMap {
    public let policy: UsernamePolicy
    /// The sources in order, possibly behind a cache.
    public let sources: any UserMap
    /// How users no source knows are placed on the default servers; nil without defaults.
    public let placement: (any ServerPlacement)?
    /// Names of the sources, for the decision trace.
    public let sourceNames: [String]
    public let hashingName: String
    /// `map.allowed_backends`: a route naming any other backend is refused; nil allows any.
    public let allowedBackends: AllowedBackends?
    /// Told of each route refused by `allowedBackends`.
    public let refusals: MapRefusalSink

    public init(
        policy: UsernamePolicy, sources: any UserMap, sourceNames: [String], placement: (any ServerPlacement)?,
        hashingName: String = "rendezvous", allowedBackends: AllowedBackends? = nil, refusals: MapRefusalSink = .none
    ) {
        self.allowedBackends = allowedBackends
        self.refusals = refusals
        self.policy = policy
        self.sources = sources
        self.sourceNames = sourceNames
        self.placement = placement
        self.hashingName = hashingName
    }

    public func lookup(_ query: MapQuery) async throws -> Route? {
        let key = policy.lookupKey(query.user, clientIP: query.clientIP)
        query.note("login name '\(query.user)' -> lookup key '\(key)'")
        query.note("sources, in order: \(sourceNames.isEmpty ? "none" : sourceNames.joined(separator: ", "))")
        let route = try await sources.lookup(MapQuery(user: key, clientIP: query.clientIP, trace: query.trace))
        return try decide(route, key: key, query: query)
    }

    /// At once when the sources answer at once. A traced query (`postern lookup`) always takes `lookup`, so
    /// that its steps are written down once.
    public func immediateLookup(_ query: MapQuery) throws -> ImmediateLookup {
        guard query.trace == nil else { return .mustAsk }
        let key = policy.lookupKey(query.user, clientIP: query.clientIP)
        guard case .answered(let route) = try sources.immediateLookup(MapQuery(user: key, clientIP: query.clientIP))
        else { return .mustAsk }
        return .answered(try decide(route, key: key, query: query))
    }

    /// The sources' answer for `key`, then the default servers, the allowed backends and the backend login.
    private func decide(_ found: Route?, key: String, query: MapQuery) throws -> Route? {
        var route = found
        if route == nil, let placement {
            let order = placement.order(for: key)
            if order.count == 1 {
                route = Route(servers: order, reason: "default")
                query.note("no source knows '\(key)': the default server")
            } else if !order.isEmpty {
                route = Route(servers: order, reason: "default (\(hashingName) hashing of '\(key)')")
                query.note(
                    "no source knows '\(key)': \(hashingName) hashing over \(order.count) default servers puts it on "
                        + "\(order[0]), the others follow as failover")
            }
        }
        guard var route else {
            query.note("no backend: unknown user")
            return nil
        }
        if let allowedBackends, let outside = route.servers.first(where: { !allowedBackends.permits(host: $0.host) }) {
            let refusal = MapRefusal(source: route.reason, reason: .backendNotAllowed(outside))
            query.note("\(refusal)")
            refusals.report(refusal)
            throw RouteRefused(refusal)
        }
        if policy.config.fromMap, let mapUser = route.backendUser, !mapUser.isEmpty {
            query.note("backend login name '\(mapUser)' (given by the map)")
        } else {
            let login = policy.backendLogin(query.user)
            query.note("backend login name '\(login)'\(login == query.user ? "" : " (rewritten)")")
            route.backendUser = login
        }
        return route
    }
}
