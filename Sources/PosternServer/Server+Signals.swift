import Dispatch
import Glibc

/// Signals: SIGHUP reloads, SIGTERM and SIGINT drain and stop (a second one cuts the drain short).
extension Server {
    /// Handles the signals on the control queue and blocks until the drain is over.
    public func runUntilStopped() {
        signal(SIGPIPE, SIG_IGN)
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGHUP, SIGTERM, SIGINT] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: control)
            source.setEventHandler { [weak self] in
                guard let self else { return }
                if number == SIGHUP {
                    self.reload()
                } else {
                    self.stop(reason: number == SIGTERM ? "SIGTERM" : "SIGINT")
                }
            }
            source.resume()
            sources.append(source)
        }
        stopped.wait()
        // The sources live until here: the wait above is the whole life of the server.
        for source in sources { source.cancel() }
    }
}
