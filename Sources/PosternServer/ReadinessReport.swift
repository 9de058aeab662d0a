import Foundation

/// The answer of `/readyz`: ready when every listener is bound, the last reload succeeded, the server does
/// not drain and every map source answers; otherwise each reason that is not met.
struct ReadinessReport: Sendable, Equatable, Encodable {
    /// One map source and whether it answers.
    struct Source: Sendable, Equatable, Encodable {
        let name: String
        let kind: String
        let reachable: Bool
        let lastError: String?

        private enum CodingKeys: String, CodingKey { case name, kind, reachable, lastError = "last_error" }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(kind, forKey: .kind)
            try container.encode(reachable, forKey: .reachable)
            try container.encode(lastError, forKey: .lastError)
        }
    }

    let reasons: [String]
    let generation: Int
    let draining: Bool
    let lastReload: ReloadRecord?
    /// Listener name to its bound addresses.
    let listeners: [String: [String]]
    let mapSources: [Source]

    var isReady: Bool { reasons.isEmpty }

    /// Checks every condition; `configured` are the listener names of the configuration in service.
    init(
        configured: [String], bound: [String: [String]], draining: Bool, lastReload: ReloadRecord?,
        sources: [Source], generation: Int
    ) {
        var reasons: [String] = []
        if draining { reasons.append("draining") }
        if let lastReload, !lastReload.succeeded {
            let why = lastReload.errors.first.map { ": \($0)" } ?? ""
            reasons.append("the last reload (generation \(lastReload.generation)) was refused\(why)")
        }
        for name in configured where (bound[name] ?? []).isEmpty && !draining {
            reasons.append("listener \(name) is not bound")
        }
        for source in sources where !source.reachable {
            reasons.append("map source \(source.name) does not answer: \(source.lastError ?? "unknown error")")
        }
        self.reasons = reasons
        self.generation = generation
        self.draining = draining
        self.lastReload = lastReload
        self.listeners = bound
        self.mapSources = sources
    }

    private enum CodingKeys: String, CodingKey {
        case status, reasons, generation, draining, lastReload = "last_reload", listeners
        case mapSources = "map_sources"
    }

    private enum ReloadKeys: String, CodingKey { case generation, at, succeeded, errors }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(isReady ? "ready" : "not-ready", forKey: .status)
        try container.encode(reasons, forKey: .reasons)
        try container.encode(generation, forKey: .generation)
        try container.encode(draining, forKey: .draining)
        if let lastReload {
            var reload = container.nestedContainer(keyedBy: ReloadKeys.self, forKey: .lastReload)
            try reload.encode(lastReload.generation, forKey: .generation)
            try reload.encode(AdminJSON.timestamp(lastReload.at), forKey: .at)
            try reload.encode(lastReload.succeeded, forKey: .succeeded)
            try reload.encode(lastReload.errors, forKey: .errors)
        } else {
            try container.encodeNil(forKey: .lastReload)
        }
        try container.encode(listeners, forKey: .listeners)
        try container.encode(mapSources, forKey: .mapSources)
    }
}
