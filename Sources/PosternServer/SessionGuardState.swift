import PosternGuard

/// The abuse guards' part of one session: its place in the connection counts (given back once, at the
/// end) and the throttle's note of the login attempt in flight.
struct SessionGuardState {
    var ticket: ConnectionLimiter.Ticket?
    var note: ThrottleNote?
}
