import PosternMap
import PosternProtocol

/// One login attempt of a session, from the client's login command until the backend answered: the one
/// place its credentials live, so that dropping them is one assignment.
struct LoginAttempt {
    /// The session's count of logins: every asynchronous answer carries it, and a stale one is dropped.
    let generation: Int
    /// The client's request with its credentials; nil once the backend answered (or the attempt gave up).
    private(set) var request: LoginRequest?
    /// When the login command arrived (session clock).
    let startedAt: UInt64
    /// The name the map is asked about (kept for the log after the credentials are gone).
    let routingKey: String
    let mechanism: LoginMechanism
    /// The map's answer, once it came.
    private(set) var route: Route?
    /// Servers of the route not tried yet, in order.
    var candidatesLeft: [BackendAddress] = []

    init(generation: Int, request: LoginRequest, startedAt: UInt64) {
        self.generation = generation
        self.request = request
        self.startedAt = startedAt
        self.routingKey = request.credentials.routingKey
        self.mechanism = request.mechanism
    }

    /// The login name towards the backend, when the map replaced the client's.
    var backendUser: String? { route?.backendUser }

    /// True while the attempt holds the client's password, token or SASL response.
    var holdsCredentials: Bool { request != nil }

    /// Records the map's answer; its servers become the candidates.
    mutating func routed(_ route: Route) {
        self.route = route
        candidatesLeft = route.servers
    }

    /// The credentials to replay to the backend: the client's, with the login name the map gave if any
    /// (a `user@host` value, an LDAP attribute, a rewritten name). Nil once released.
    var backendCredentials: Credentials? {
        guard var credentials = request?.credentials else { return nil }
        if let backendUser, backendUser != credentials.routingKey {
            if let authzid = credentials.authzid, !authzid.isEmpty {
                credentials.authzid = backendUser
            } else {
                credentials.user = backendUser
            }
        }
        return credentials
    }

    /// Drops the credentials: called the moment the backend accepted or the attempt gave up.
    mutating func releaseCredentials() {
        request = nil
    }
}
