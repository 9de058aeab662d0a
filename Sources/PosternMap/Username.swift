import Foundation
import PosternConfig

/// Rewrites login names per stage: the key the map is asked about, and the name sent to the backend.
public struct UsernamePolicy: Sendable, Equatable {
    public var config: UsernameConfig

    public init(_ config: UsernameConfig = UsernameConfig()) {
        self.config = config
    }

    /// Local part and domain of `name`, split at the last `delimiter`; the domain is nil without one.
    public static func split(_ name: String, delimiter: String) -> (local: String, domain: String?) {
        guard !delimiter.isEmpty, let range = name.range(of: delimiter, options: .backwards) else {
            return (name, nil)
        }
        return (String(name[..<range.lowerBound]), String(name[range.upperBound...]))
    }

    /// `name` rewritten for one stage: default domain, domain stripped, lower case.
    public func rewrite(_ name: String, _ stage: UsernameStage) -> String {
        var (local, domain) = Self.split(name, delimiter: config.domainDelimiter)
        if domain == nil, !stage.defaultDomain.isEmpty { domain = stage.defaultDomain }
        if stage.stripDomain { domain = nil }
        switch stage.lowerCase {
        case .none: break
        case .domain: domain = domain?.lowercased()
        case .all:
            local = local.lowercased()
            domain = domain?.lowercased()
        }
        guard let domain else { return local }
        return local + config.domainDelimiter + domain
    }

    /// The name the map is asked about: the lookup stage's rewriting, then the key template.
    public func lookupKey(_ name: String, clientIP: String?) -> String {
        let rewritten = rewrite(name, config.lookup)
        let values = TemplateValues(user: rewritten, delimiter: config.domainDelimiter, clientIP: clientIP)
        return Template.expand(config.keyTemplate, values)
    }

    /// The name sent to the backend when the map gives none: the login stage's rewriting.
    public func backendLogin(_ name: String) -> String {
        rewrite(name, config.login)
    }
}
