import Dispatch
import Foundation
import PosternSync

/// The status page's last 15 minutes: a sample every `interval` seconds in a ring of `capacity`, taken by a
/// timer on a queue of its own (never per event), plus the instant the process started.
final class StatusHistory: Sendable {
    /// Seconds between samples.
    static let interval = 5
    /// 15 minutes of samples.
    static let capacity = 180

    /// When the server was made (Unix seconds): the page's uptime.
    let startedAt: Double
    private let ring: Mutex<StatusRing<StatusSample>>
    private let timer = Mutex<SamplerTimer?>(nil)
    private let queue = DispatchQueue(label: "postern.status-history")

    init(capacity: Int = StatusHistory.capacity, startedAt: Double = Date().timeIntervalSince1970) {
        self.startedAt = startedAt
        ring = Mutex(StatusRing(capacity: capacity))
    }

    deinit { timer.withLock { $0?.source.cancel() } }

    func record(_ sample: StatusSample) {
        ring.withLock { $0.append(sample) }
    }

    /// Every sample kept, oldest first.
    var samples: [StatusSample] { ring.withLock { $0.elements } }

    /// Records `sample()` now and then every `interval` seconds (once; later calls do nothing).
    func start(sample: @escaping @Sendable () -> StatusSample) {
        timer.withLock { timer in
            guard timer == nil else { return }
            let source = DispatchSource.makeTimerSource(queue: queue)
            source.schedule(
                deadline: .now(), repeating: .seconds(StatusHistory.interval), leeway: .milliseconds(500))
            source.setEventHandler { [weak self] in self?.record(sample()) }
            source.resume()
            timer = SamplerTimer(source: source)
        }
    }
}

/// The history's timer source, touched only under the history's lock.
private struct SamplerTimer: @unchecked Sendable {
    let source: any DispatchSourceTimer
}
