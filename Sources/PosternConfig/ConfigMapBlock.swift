import Foundation
import Yams

/// The `map` block: where users are routed.
extension SchemaWalker {
    static let mapKeys = [
        "file", "regex", "regex_match", "ldap", "order", "default", "hashing", "cache", "username", "breaker",
        "allowed_backends",
    ]
    static let cacheKeys = ["ttl", "negative_ttl", "stale_ttl", "size"]
    static let breakerKeys = ["failures", "backoff"]
    static let usernameKeys = ["domain_delimiter", "lookup", "login", "key_template", "from_map"]
    static let usernameStageKeys = ["strip_domain", "default_domain", "lower_case"]
    /// Placeholders of the lookup key template and the LDAP filter.
    public static let templatePlaceholders = ["user", "local", "domain", "client_ip"]

    /// The `map:` block: map files, regex files, LDAP, default servers, cache, user names, breaker.
    func readMap(_ node: Node, path: String, owner: Node?) -> MapConfig {
        var config = MapConfig()
        guard let reader = MappingReader(node, path: path, owner: owner, known: Self.mapKeys, collector: collector)
        else {
            return config
        }
        if let value = reader.optional("file") {
            config.files = stringList(value, path: reader.path("file")).compactMap {
                existingFile($0.node, path: $0.path)
            }
        }
        if let value = reader.optional("regex") {
            config.regexFiles = stringList(value, path: reader.path("regex")).compactMap {
                existingFile($0.node, path: $0.path)
            }
        }
        if let value = reader.optional("regex_match"),
            let order = collector.choice(value, reader.path("regex_match"), as: RegexMatchOrder.self)
        {
            config.regexMatch = order
        }
        if let value = reader.optional("ldap") {
            config.ldap = readLDAP(value, path: reader.path("ldap"), owner: reader.keyNode("ldap"))
        }
        if let value = reader.optional("order") {
            config.order = readOrder(value, path: reader.path("order"))
        }
        var defaults: [(text: String, node: Node, path: String)] = []
        if let value = reader.optional("default") {
            for item in stringList(value, path: reader.path("default")) {
                guard let text = collector.text(item.node, item.path) else { continue }
                switch AddressSyntax.parse(text, portRequired: false) {
                case .success:
                    config.defaultServers.append(text)
                    defaults.append((text, item.node, item.path))
                case .failure(let problem): collector.report(item.path, at: item.node, problem.message)
                }
            }
        }
        if let value = reader["allowed_backends"] {
            config.allowedBackends = readAllowedBackends(value, path: reader.path("allowed_backends"))
            if let allowed = config.allowedBackends { checkDefaults(defaults, against: allowed) }
        }
        if let value = reader.optional("hashing"),
            let method = collector.choice(value, reader.path("hashing"), as: HashingMethod.self)
        {
            config.hashing = method
        }
        if let value = reader.optional("cache") {
            config.cache = readCache(value, path: reader.path("cache"), owner: reader.keyNode("cache"))
        }
        if let value = reader.optional("username") {
            config.username = readUsername(value, path: reader.path("username"), owner: reader.keyNode("username"))
        }
        if let value = reader.optional("breaker") {
            config.breaker = readBreaker(value, path: reader.path("breaker"), owner: reader.keyNode("breaker"))
        }
        return config
    }

    /// One string or a list of strings, each with its node and key path.
    func stringList(_ node: Node, path: String) -> [(node: Node, path: String)] {
        switch node {
        case .sequence(let sequence):
            return sequence.enumerated().map { (node: $0.element, path: "\(path)[\($0.offset)]") }
        case .scalar where !node.isNull:
            return [(node, path)]
        default:
            collector.report(path, at: node, "expected a string or a list of strings, found \(node.kindDescription)")
            return []
        }
    }

    func readOrder(_ node: Node, path: String) -> [MapSourceKind] {
        var order: [MapSourceKind] = []
        for item in stringList(node, path: path) {
            guard let kind = collector.choice(item.node, item.path, as: MapSourceKind.self) else { continue }
            if order.contains(kind) {
                collector.report(item.path, at: item.node, "'\(kind.rawValue)' is listed twice")
            } else {
                order.append(kind)
            }
        }
        for kind in MapSourceKind.allCases where !order.contains(kind) { order.append(kind) }
        return order
    }

    func readCache(_ node: Node, path: String, owner: Node?) -> MapCacheConfig {
        var cache = MapCacheConfig()
        guard let reader = MappingReader(node, path: path, owner: owner, known: Self.cacheKeys, collector: collector)
        else {
            return cache
        }
        func seconds(_ key: String, into field: inout Double) {
            guard let value = reader.optional(key) else { return }
            if let number = collector.secondsOrZero(value, reader.path(key), maximum: Self.maxSeconds) {
                field = number
            }
        }
        seconds("ttl", into: &cache.ttl)
        seconds("negative_ttl", into: &cache.negativeTTL)
        seconds("stale_ttl", into: &cache.staleTTL)
        if let value = reader.optional("size"),
            let size = collector.integer(value, reader.path("size"), in: 1...10_000_000)
        {
            cache.size = size
        }
        return cache
    }

    func readBreaker(_ node: Node, path: String, owner: Node?) -> BreakerConfig {
        var breaker = BreakerConfig()
        guard let reader = MappingReader(node, path: path, owner: owner, known: Self.breakerKeys, collector: collector)
        else {
            return breaker
        }
        if let value = reader.optional("failures"),
            let count = collector.integer(value, reader.path("failures"), in: 1...1000)
        {
            breaker.failures = count
        }
        if let value = reader.optional("backoff"),
            let seconds = collector.secondsOrZero(value, reader.path("backoff"), maximum: Self.maxSeconds)
        {
            breaker.backoff = seconds
        }
        return breaker
    }

    func readUsername(_ node: Node, path: String, owner: Node?) -> UsernameConfig {
        var username = UsernameConfig()
        guard let reader = MappingReader(node, path: path, owner: owner, known: Self.usernameKeys, collector: collector)
        else {
            return username
        }
        if let value = reader.optional("domain_delimiter"),
            let text = collector.nonEmptyText(value, reader.path("domain_delimiter"))
        {
            username.domainDelimiter = text
        }
        if let value = reader.optional("lookup") {
            username.lookup = readUsernameStage(value, path: reader.path("lookup"), owner: reader.keyNode("lookup"))
        }
        if let value = reader.optional("login") {
            username.login = readUsernameStage(value, path: reader.path("login"), owner: reader.keyNode("login"))
        }
        if let value = reader.optional("key_template"),
            let text = collector.nonEmptyText(value, reader.path("key_template"))
        {
            if checkTemplate(text, node: value, path: reader.path("key_template")) { username.keyTemplate = text }
        }
        if let value = reader.optional("from_map"), let flag = collector.boolean(value, reader.path("from_map")) {
            username.fromMap = flag
        }
        return username
    }

    func readUsernameStage(_ node: Node, path: String, owner: Node?) -> UsernameStage {
        var stage = UsernameStage()
        guard
            let reader = MappingReader(
                node, path: path, owner: owner, known: Self.usernameStageKeys, collector: collector)
        else {
            return stage
        }
        if let value = reader.optional("strip_domain"), let flag = collector.boolean(value, reader.path("strip_domain"))
        {
            stage.stripDomain = flag
        }
        if let value = reader.optional("default_domain"),
            let text = collector.text(value, reader.path("default_domain"))
        {
            stage.defaultDomain = text
        }
        if let value = reader.optional("lower_case") {
            // YAML booleans are accepted too: true means all, false none.
            if value.scalarTag == Tag.Name.bool.rawValue, let flag = value.bool {
                stage.lowerCase = flag ? .all : .none
            } else if let mode = collector.choice(value, reader.path("lower_case"), as: LowerCaseMode.self) {
                stage.lowerCase = mode
            }
        }
        return stage
    }

    /// True when every `{name}` in `text` is a known placeholder and braces are balanced; reports otherwise.
    func checkTemplate(_ text: String, node: Node, path: String) -> Bool {
        var rest = Substring(text)
        while let open = rest.firstIndex(where: { $0 == "{" || $0 == "}" }) {
            guard rest[open] == "{", let close = rest[open...].firstIndex(of: "}") else {
                collector.report(path, at: node, "unbalanced '{' or '}' in '\(text)'")
                return false
            }
            let name = String(rest[rest.index(after: open)..<close])
            guard Self.templatePlaceholders.contains(name) else {
                let known = Self.templatePlaceholders.map { "{\($0)}" }.joined(separator: ", ")
                collector.report(path, at: node, "unknown placeholder '{\(name)}' (known: \(known))")
                return false
            }
            rest = rest[rest.index(after: close)...]
        }
        return true
    }
}

extension IssueCollector {
    /// Like `seconds`, but 0 is allowed (it turns the feature off).
    func secondsOrZero(_ node: Node, _ path: String, maximum: Double) -> Double? {
        let tag = node.scalarTag
        guard tag == Tag.Name.int.rawValue || tag == Tag.Name.float.rawValue else {
            report(path, at: node, "expected a number of seconds, found \(node.kindDescription)")
            return nil
        }
        let value = tag == Tag.Name.int.rawValue ? node.int.map(Double.init) : node.float
        guard let value, value.isFinite, value >= 0, value <= maximum else {
            let written = node.scalar?.string ?? "value"
            report(path, at: node, "\(written) is out of range (must be 0 to \(Int(maximum)))")
            return nil
        }
        return value
    }
}
