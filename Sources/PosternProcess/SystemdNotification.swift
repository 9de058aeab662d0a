import Glibc

/// One state change for the service manager, as `sd_notify(3)` names it.
public enum SystemdNotification: Sendable, Equatable {
    /// Start-up (or a reload) is finished: `READY=1`.
    case ready
    /// A reload begins: `RELOADING=1` with `MONOTONIC_USEC`, the `CLOCK_MONOTONIC` time in microseconds
    /// (systemd 253+ wants both for `Type=notify-reload`). Send `.ready` when the reload is done.
    case reloading(monotonicMicroseconds: UInt64)
    /// Shutdown begins: `STOPPING=1`.
    case stopping
    /// Free text for `systemctl status`: `STATUS=...` (control characters become spaces).
    case status(String)
    /// The main process id: `MAINPID=N`.
    case mainPID(Int32)
    /// Keep-alive for `WatchdogSec=`: `WATCHDOG=1`.
    case watchdog

    /// `.reloading` stamped with the current `CLOCK_MONOTONIC` time.
    public static func reloadingNow() -> SystemdNotification {
        .reloading(monotonicMicroseconds: monotonicMicroseconds())
    }

    /// `CLOCK_MONOTONIC` in microseconds.
    public static func monotonicMicroseconds() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000 + UInt64(spec.tv_nsec) / 1000
    }

    /// The `KEY=VALUE` line(s) of this notification.
    public var assignment: String {
        switch self {
        case .ready: "READY=1"
        case .reloading(let microseconds): "RELOADING=1\nMONOTONIC_USEC=\(microseconds)"
        case .stopping: "STOPPING=1"
        case .status(let text):
            "STATUS="
                + String(
                    String.UnicodeScalarView(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : $0 })
                )
        case .mainPID(let pid): "MAINPID=\(pid)"
        case .watchdog: "WATCHDOG=1"
        }
    }
}
