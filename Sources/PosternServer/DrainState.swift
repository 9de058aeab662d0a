import Dispatch

/// Where a stop stands: serving; draining (relayed sessions go on until `deadline`); saying the farewell
/// (sessions not at a response boundary get until `deadline`); stopped.
enum DrainState: Sendable, Equatable {
    case serving
    case draining(deadline: DispatchTime)
    case farewell(deadline: DispatchTime)
    case stopped
}
