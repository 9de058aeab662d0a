import PosternAdmin
import PosternIO

/// Whether an admin request may be answered: public routes always; the others with the bearer token of
/// `server.admin_token_file` when it is set, else only on a loopback listener.
enum AdminAccess: Sendable, Equatable {
    case allowed
    /// A token is configured and the request did not present it (401).
    case unauthorized
    /// No token is configured and the admin listener is not on a loopback address (403).
    case forbidden

    static func decide(route: AdminRoute, token: AdminToken?, presented: String?, loopback: Bool) -> AdminAccess {
        if route.isPublic { return .allowed }
        if let token { return token.matches(presented) ? .allowed : .unauthorized }
        return loopback ? .allowed : .forbidden
    }

    /// Whether the admin listener's address is a loopback one (127.0.0.0/8, ::1, or ::ffff:127.x.x.x).
    static func isLoopback(_ address: SocketAddress) -> Bool {
        isLoopback(host: address.host)
    }

    static func isLoopback(host: String) -> Bool {
        let host = host.lowercased()
        if host == "::1" || host == "0:0:0:0:0:0:0:1" { return true }
        let v4 = host.hasPrefix("::ffff:") ? String(host.dropFirst(7)) : host
        let parts = v4.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    /// The answer for a refusal.
    var response: AdminHTTPResponse? {
        switch self {
        case .allowed:
            return nil
        case .unauthorized:
            var response = AdminHTTPResponse.json(.unauthorized, AdminJSON.encode(["error": "bearer token required"]))
            response.headers.append((name: "WWW-Authenticate", value: "Bearer realm=\"postern\""))
            return response
        case .forbidden:
            return .json(
                .forbidden,
                AdminJSON.encode([
                    "error": "server.admin_token_file is not set and the admin API does not listen on loopback"
                ]))
        }
    }
}
