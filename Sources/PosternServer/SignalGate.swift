import Dispatch

/// The process's signal sources and the signals that came before the server was ready for them: a SIGHUP
/// or SIGTERM in the moment between binding the listeners and `runUntilStopped` is held, then handled.
struct SignalGate: ~Copyable {
    var open = false
    var held: [Int32] = []
    var sources = SignalSources(all: [])
}

/// Signal sources handed between threads: libdispatch objects are thread-safe, only not marked Sendable
/// in the Linux overlay.
struct SignalSources: @unchecked Sendable {
    let all: [any DispatchSourceSignal]
}
