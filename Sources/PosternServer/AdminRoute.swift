/// What an admin request asks for, once its path, method and parameters were checked.
enum AdminRoute: Sendable, Equatable {
    /// `GET|HEAD /healthz`: the process is alive.
    case healthz
    /// `GET|HEAD /readyz`: ready for traffic.
    case readyz
    /// `GET|HEAD /health`: the old probe (503 while stopping).
    case health
    /// `GET|HEAD /metrics`.
    case metrics
    /// `GET|HEAD /sessions`.
    case sessions(SessionFilter)
    /// `POST /sessions/kick`.
    case kick(SessionFilter)
    /// `GET|HEAD /backends`.
    case backends
    /// `POST /backends/drain`: the backend's `host:port`.
    case drain(String)
    /// `POST /backends/undrain`.
    case undrain(String)
    /// `GET|HEAD /` and `/status`: the status page (static; its data comes from `/status.json`).
    case statusPage
    /// `GET|HEAD /status.json`: what the status page shows.
    case status

    /// Answered to anyone who reaches the admin listener (probes, scrapers, and the status page, which holds
    /// no data); every other route needs the token, or a loopback listener when no token is configured.
    var isPublic: Bool {
        switch self {
        case .healthz, .readyz, .health, .metrics, .statusPage: return true
        case .sessions, .kick, .backends, .drain, .undrain, .status: return false
        }
    }
}
