/// A map value: servers in order, each `[user@]host[:port]`, separated by commas or blanks.
///
/// The user part (before the last `@`) is the backend login name; the first server that has one gives it.
public struct MapValue: Sendable, Equatable {
    public var servers: [BackendAddress]
    public var backendUser: String?

    public init(servers: [BackendAddress], backendUser: String? = nil) {
        self.servers = servers
        self.backendUser = backendUser
    }

    /// Parses a value; the error names the part that is not a server.
    public static func parse(_ text: some StringProtocol) -> Result<MapValue, MapError> {
        var value = MapValue(servers: [])
        let parts = String(text).split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" })
        for part in parts {
            var hostPart = Substring(part)
            if let at = part.lastIndex(of: "@") {
                let user = String(part[..<at])
                hostPart = part[part.index(after: at)...]
                guard !user.isEmpty else { return .failure(MapError("empty user name in '\(part)'")) }
                if value.backendUser == nil { value.backendUser = user }
            }
            guard let address = BackendAddress.parse(hostPart) else {
                return .failure(MapError("bad server '\(part)'"))
            }
            value.servers.append(address)
        }
        guard !value.servers.isEmpty else { return .failure(MapError("no server")) }
        return .success(value)
    }
}
