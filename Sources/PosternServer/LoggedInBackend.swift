import PosternIO
import PosternTLS

/// A backend connection that accepted the login, handed from the dialler to the session (the credentials
/// and the back-end login machine are gone by then).
struct LoggedInBackend {
    let connection: any Connection
    /// `host:port` of the backend.
    let label: String
    let tlsInfo: TLSSessionInfo?
    /// The backend's final login response without its tag, for the client.
    let text: String
    /// Whatever the backend sent after that response.
    let leftover: [UInt8]
}
