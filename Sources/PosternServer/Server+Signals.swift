import Dispatch
import Glibc

/// Signals: SIGHUP reloads, SIGTERM and SIGINT drain and stop (a second one cuts the drain short).
extension Server {
    /// Catches SIGHUP, SIGTERM and SIGINT from now on (call it before `start()`): a signal that comes before
    /// `runUntilStopped` is held and handled then, instead of the default action killing the process while
    /// its listeners already accept (a reload sent right after a start).
    public func catchSignals() {
        signal(SIGPIPE, SIG_IGN)
        let installed = signalGate.withLock { !$0.sources.all.isEmpty }
        guard !installed else { return }
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGHUP, SIGTERM, SIGINT] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: control)
            source.setEventHandler { [weak self] in self?.received(number) }
            source.resume()
            sources.append(source)
        }
        let caught = SignalSources(all: sources)
        signalGate.withLock { $0.sources = caught }
    }

    /// Handles the signals on the control queue (those held since `catchSignals` first) and blocks until the
    /// drain is over.
    public func runUntilStopped() {
        catchSignals()
        control.async {
            let held = self.signalGate.withLock { gate -> [Int32] in
                gate.open = true
                defer { gate.held = [] }
                return gate.held
            }
            for number in held { self.handle(number) }
        }
        stopped.wait()
        // The sources live until here: the wait above is the whole life of the server.
        let sources = signalGate.withLock { gate -> SignalSources in
            defer { gate.sources = SignalSources(all: []) }
            return gate.sources
        }
        for source in sources.all { source.cancel() }
    }

    /// On the control queue.
    private func received(_ number: Int32) {
        let now = signalGate.withLock { gate -> Bool in
            if !gate.open { gate.held.append(number) }
            return gate.open
        }
        if now { handle(number) }
    }

    private func handle(_ number: Int32) {
        if number == SIGHUP {
            reload()
        } else {
            stop(reason: number == SIGTERM ? "SIGTERM" : "SIGINT")
        }
    }
}
