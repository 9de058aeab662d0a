import Foundation

/// A text map of `user host[:port]` lines: `#` comments, exact users and `*@domain` wildcards.
///
/// Exact entries win over wildcards; user names match exactly first, then case-insensitively.
public struct FileMap: UserMap {
    /// One parsed line.
    public struct Entry: Sendable, Equatable {
        public var key: String
        public var servers: [BackendAddress]
        public var line: Int
        /// The backend login name from a `user@host` value.
        public var backendUser: String? = nil
    }

    public let path: String
    private let exact: [String: Entry]
    private let folded: [String: Entry]
    private let domains: [String: Entry]

    /// A problem in the map file, with its line.
    public struct ParseError: Error, Sendable, CustomStringConvertible {
        public var path: String
        public var line: Int
        public var message: String
        public var description: String { "\(path):\(line): \(message)" }
    }

    /// Reads and parses a map file.
    public init(path: String) throws {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ParseError(path: path, line: 0, message: "cannot read the map: \(error.localizedDescription)")
        }
        try self.init(text: text, path: path)
    }

    /// Parses map text; `path` names it in errors.
    public init(text: String, path: String) throws {
        self.path = path
        var exact: [String: Entry] = [:]
        var folded: [String: Entry] = [:]
        var domains: [String: Entry] = [:]
        var errors: [ParseError] = []
        // "\r\n" is one Character in Swift: splitting on "\n" alone would leave a CRLF file as a single line.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        for (index, rawLine) in lines.enumerated() {
            let lineNumber = index + 1
            var line = Substring(rawLine)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if fields.isEmpty { continue }
            guard fields.count >= 2 else {
                errors.append(ParseError(path: path, line: lineNumber, message: "expected 'user host[:port]'"))
                continue
            }
            // Perdition's popmap writes "user: host"; the colon after the key is optional here.
            var key = String(fields[0])
            if key.count > 1, key.hasSuffix(":") { key.removeLast() }
            let valueText = fields.dropFirst().joined(separator: " ")
            let value: MapValue
            switch MapValue.parse(valueText) {
            case .success(let parsed): value = parsed
            case .failure(let error):
                let message = error.message == "no server" ? "no server for '\(key)'" : error.message
                errors.append(ParseError(path: path, line: lineNumber, message: message))
                continue
            }
            let servers = value.servers
            let entry = Entry(key: key, servers: servers, line: lineNumber, backendUser: value.backendUser)
            if key.hasPrefix("*@") {
                let domain = key.dropFirst(2).lowercased()
                guard !domain.isEmpty else {
                    errors.append(ParseError(path: path, line: lineNumber, message: "empty domain in '\(key)'"))
                    continue
                }
                if domains[domain] == nil { domains[domain] = entry }
            } else {
                if exact[key] == nil { exact[key] = entry }
                if folded[key.lowercased()] == nil { folded[key.lowercased()] = entry }
            }
        }
        if let first = errors.first { throw first }
        self.exact = exact
        self.folded = folded
        self.domains = domains
    }

    /// Number of entries, for logs.
    public var count: Int { exact.count + domains.count }

    /// Every server the file names (for the server's bounded metric labels).
    public var servers: Set<BackendAddress> {
        Set(exact.values.flatMap(\.servers) + domains.values.flatMap(\.servers))
    }

    /// The entry for a user, without the async wrapper.
    public func entry(for user: String) -> (Entry, String)? {
        if let entry = exact[user] { return (entry, "exact") }
        if let entry = folded[user.lowercased()] { return (entry, "exact, case-insensitive") }
        if let at = user.lastIndex(of: "@") {
            let domain = user[user.index(after: at)...].lowercased()
            if let entry = domains[domain] { return (entry, "domain wildcard *@\(domain)") }
        }
        return nil
    }

    public func lookup(_ query: MapQuery) async throws -> Route? {
        route(for: query)
    }

    /// A file map always answers at once.
    public func immediateLookup(_ query: MapQuery) -> ImmediateLookup {
        .answered(route(for: query))
    }

    private func route(for query: MapQuery) -> Route? {
        guard let (entry, kind) = entry(for: query.user) else {
            query.note("file \(path): no entry for '\(query.user)'")
            return nil
        }
        let route = Route(
            servers: entry.servers, reason: "\(path):\(entry.line) (\(kind))", backendUser: entry.backendUser)
        query.note("file \(path): line \(entry.line) (\(kind)) matches")
        return route
    }
}

/// Asks several maps in order, then falls back to a default server list.
public struct ChainedMap: UserMap {
    public let sources: [any UserMap]
    public let defaultServers: [BackendAddress]

    public init(sources: [any UserMap], defaultServers: [BackendAddress]) {
        self.sources = sources
        self.defaultServers = defaultServers
    }

    public func lookup(_ query: MapQuery) async throws -> Route? {
        for source in sources {
            if let route = try await source.lookup(query) { return route }
        }
        return defaultRoute
    }

    /// At once when every source asked answers at once (up to the first that knows the user).
    public func immediateLookup(_ query: MapQuery) throws -> ImmediateLookup {
        for source in sources {
            switch try source.immediateLookup(query) {
            case .answered(let route?): return .answered(route)
            case .answered(nil): continue
            case .mustAsk: return .mustAsk
            }
        }
        return .answered(defaultRoute)
    }

    private var defaultRoute: Route? {
        defaultServers.isEmpty ? nil : Route(servers: defaultServers, reason: "default")
    }
}
