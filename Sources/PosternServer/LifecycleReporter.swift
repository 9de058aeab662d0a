import Foundation
import Logging
import PosternProcess

/// Tells the service manager (systemd `Type=notify`, through `NOTIFY_SOCKET`) and the status file next to
/// the pid file how start-up, each reload and the drain went. Without either it does nothing.
final class LifecycleReporter: Sendable {
    private let notifier: SystemdNotifier?
    private let statusFile: ReloadStatusFile?
    private let logger: Logger

    init(notifier: SystemdNotifier?, statusFile: ReloadStatusFile?, logger: Logger) {
        self.notifier = notifier
        self.statusFile = statusFile
        self.logger = logger
    }

    /// Start-up is over: `READY=1` with a status line.
    func ready(generation: Int) {
        notify([.ready, .status("serving, configuration generation \(generation)")])
    }

    /// A reload begins: `RELOADING=1` with `MONOTONIC_USEC`.
    func reloading() { notify([.reloadingNow()]) }

    /// A load (at start or a reload) finished: the status file, and for a reload `READY=1` with its outcome.
    func loaded(_ record: ReloadRecord) {
        statusFile?.write(ReloadStatus(pid: getpid(), record: record))
        guard record.attempt > 0 else { return }
        let text =
            record.succeeded
            ? "serving, configuration generation \(record.generation)"
            : "serving generation \(record.generation); reload refused: \(record.errors.first ?? "error")"
        notify([.ready, .status(text)])
    }

    /// The drain begins: `STOPPING=1`.
    func stopping(sessions: Int) {
        notify([.stopping, .status("draining \(sessions) session(s)")])
    }

    /// The process is about to exit: the status file goes.
    func exiting() { statusFile?.remove() }

    private func notify(_ notifications: [SystemdNotification]) {
        guard let notifier else { return }
        do {
            try notifier.send(notifications)
        } catch {
            logger.warning("systemd notify failed", metadata: ["error": "\(error)"])
        }
    }
}
