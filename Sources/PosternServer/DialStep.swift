import PosternIO
import PosternProtocol

/// Where a `BackendDialler` is with the current candidate. Every step but the first and last has its own
/// deadline (`limits.connect_timeout` each, on the session clock).
enum DialStep {
    /// Not started, or between two candidates.
    case idle
    /// Waiting for the candidate's addresses.
    case resolving(BackendCandidate, deadline: UInt64)
    /// Connecting to one address; the others of the candidate come next.
    case connecting(BackendCandidate, any Connection, addressesLeft: [SocketAddress], deadline: UInt64)
    /// Connected (and, for implicit TLS, handshaking): waiting for the greeting.
    case greeting(BackendCandidate, any Connection, any BackEndLoginMachine, deadline: UInt64)
    /// The backend greeted: the back-end login machine runs.
    case loggingIn(BackendCandidate, any Connection, any BackEndLoginMachine, deadline: UInt64)
    /// Logged in (the connection was handed over), given up, or cancelled.
    case finished

    /// The connection of the step, if it has one.
    var connection: (any Connection)? {
        switch self {
        case .connecting(_, let connection, _, _), .greeting(_, let connection, _, _),
            .loggingIn(_, let connection, _, _):
            return connection
        case .idle, .resolving, .finished:
            return nil
        }
    }

    var candidate: BackendCandidate? {
        switch self {
        case .resolving(let candidate, _), .connecting(let candidate, _, _, _), .greeting(let candidate, _, _, _),
            .loggingIn(let candidate, _, _, _):
            return candidate
        case .idle, .finished:
            return nil
        }
    }

    var deadline: UInt64? {
        switch self {
        case .resolving(_, let deadline), .connecting(_, _, _, let deadline), .greeting(_, _, _, let deadline),
            .loggingIn(_, _, _, let deadline):
            return deadline
        case .idle, .finished:
            return nil
        }
    }

    /// True while a back-end login machine (and so a copy of the credentials) is alive.
    var holdsMachine: Bool {
        switch self {
        case .greeting, .loggingIn: return true
        case .idle, .resolving, .connecting, .finished: return false
        }
    }
}
