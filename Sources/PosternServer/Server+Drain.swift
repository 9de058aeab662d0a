import Dispatch
import Foundation
import Logging

/// SIGTERM/SIGINT: the graceful drain. Draining at once (`isDraining`, `/readyz` 503), listeners closed,
/// the farewell to clients before their relay; relayed sessions go on for `shutdown.drain_seconds`, then
/// each gets its farewell at its next response boundary (or is closed without one after the grace); then
/// `runUntilStopped` returns.
extension Server {
    /// How long after the farewell the drain waits for the last sessions before it returns regardless:
    /// the relay's grace for a response boundary, plus a tick of the shard timers and some slack.
    static let farewellWait: Double = Double(Session.farewellGrace) / 1e9 + 2

    /// Starts the drain: draining at once (new connections are closed on accept), the rest on the control
    /// queue (listeners closed, farewells before the relay). A second call ends the drain early, so the
    /// farewell goes to every session now.
    public func stop(reason: String) {
        guard !draining.exchange(true, ordering: .relaxed) else {
            control.async { self.sayFarewell(early: true) }
            return
        }
        control.async { self.beginDrain(reason: reason) }
    }

    private func beginDrain(reason: String) {
        let drainSeconds = currentRuntime.config.shutdown.drainSeconds
        let closed = bindings.withLock { list -> [ListenerBinding] in
            let all = list
            list = []
            return all
        }
        for binding in closed { binding.listener.stop() }
        status.withLock { $0.boundListeners = [:] }
        reporter.stopping(sessions: stats.activeSessions)
        logger.notice(
            "stopping: draining",
            metadata: [
                "reason": "\(reason)", "sessions": "\(stats.activeSessions)", "drain_seconds": "\(drainSeconds)",
            ])
        for registry in sessions { registry.farewell(.shutdown, beforeRelayOnly: true) }
        let deadline = DispatchTime.now() + drainSeconds
        drainState.withLock { $0 = .draining(deadline: deadline) }
        waitForDrain()
    }

    /// Polls (every 50 ms) until the sessions are gone or the phase's deadline passed.
    private func waitForDrain() {
        let state = drainState.withLock { $0 }
        if stats.activeSessions == 0 {
            finishDrain()
            return
        }
        switch state {
        case .draining(let deadline) where DispatchTime.now() >= deadline:
            sayFarewell(early: false)
        case .farewell(let deadline) where DispatchTime.now() >= deadline:
            finishDrain()
            return
        case .serving, .stopped:
            return
        default:
            break
        }
        control.asyncAfter(deadline: .now() + .milliseconds(50)) { self.waitForDrain() }
    }

    /// The drain time is over: every session left gets its farewell.
    private func sayFarewell(early: Bool) {
        let moved = drainState.withLock { state -> Bool in
            guard case .draining = state else { return false }
            state = .farewell(deadline: .now() + Server.farewellWait)
            return true
        }
        guard moved else { return }
        logger.info(
            early ? "stopping: drain cut short, saying farewell" : "stopping: drain time over, saying farewell",
            metadata: ["sessions": "\(stats.activeSessions)"])
        for registry in sessions { registry.farewell(.shutdown) }
    }

    private func finishDrain() {
        let first = drainState.withLock { state -> Bool in
            guard state != .stopped else { return false }
            state = .stopped
            return true
        }
        guard first else { return }
        logger.info("stopped", metadata: ["sessions_left": "\(stats.activeSessions)"])
        admin.withLock { $0?.stop() }
        reporter.exiting()
        stopped.signal()
    }
}
