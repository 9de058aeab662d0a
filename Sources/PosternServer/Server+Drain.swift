import Dispatch
import Foundation
import Logging

/// SIGTERM/SIGINT: the graceful drain. Draining at once (`isDraining`, `/readyz` 503), listeners closed,
/// the farewell to idle clients before their login; a client greeted or answered within
/// `shutdown.login_grace_seconds` may still log in during that grace (a balancer's connection that was on
/// its way when the stop began is not lost), then it gets its farewell too; relayed sessions go on for
/// `shutdown.drain_seconds`, then each gets its farewell at its next response boundary (or is closed
/// without one after the grace); then `runUntilStopped` returns.
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
        let grace = min(currentRuntime.config.shutdown.loginGraceSeconds, drainSeconds)
        for registry in sessions {
            registry.farewellIdleBeforeLogin(.shutdown, idleFor: UInt64(grace * 1e9))
        }
        let now = DispatchTime.now()
        drainState.withLock { $0 = .draining(deadline: now + drainSeconds, loginGraceEnd: now + grace) }
        waitForDrain()
    }

    /// Polls (every 50 ms) until the sessions are gone or the phase's deadline passed. Once the login grace
    /// is over, every fifth poll says the farewell to the sessions waiting for a login command (a login
    /// under way then is let finish: it relays, or comes back to waiting and gets the farewell).
    private func waitForDrain(poll: Int = 0) {
        let state = drainState.withLock { $0 }
        if stats.activeSessions == 0 {
            finishDrain()
            return
        }
        switch state {
        case .draining(let deadline, _) where DispatchTime.now() >= deadline:
            sayFarewell(early: false)
        case .draining(_, let graceEnd) where DispatchTime.now() >= graceEnd && poll % 5 == 0:
            for registry in sessions { registry.farewellIdleBeforeLogin(.shutdown, idleFor: 0) }
        case .farewell(let deadline) where DispatchTime.now() >= deadline:
            finishDrain()
            return
        case .serving, .stopped:
            return
        default:
            break
        }
        control.asyncAfter(deadline: .now() + .milliseconds(50)) { self.waitForDrain(poll: poll &+ 1) }
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
