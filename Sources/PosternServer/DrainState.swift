import Dispatch

/// Where a stop stands: serving; draining (relayed sessions go on until `deadline`, pre-login clients may
/// still log in until `loginGraceEnd`); saying the farewell (sessions not at a response boundary get until
/// `deadline`); stopped.
enum DrainState: Sendable, Equatable {
    case serving
    case draining(deadline: DispatchTime, loginGraceEnd: DispatchTime)
    case farewell(deadline: DispatchTime)
    case stopped
}
