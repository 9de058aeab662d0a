import PosternSync

/// How long backends take to reject a wrong password, learnt from recent rejections, so that the answers
/// Postern gives without a backend (an unknown user, a refused route, a spent failure budget) can be held
/// as long and do not tell which names exist.
///
/// The estimate is a smoothed mean and mean deviation, the way TCP estimates round-trip times (RFC 6298:
/// weights 1/8 and 1/4, the first sample sets the mean and half of it the deviation). A hold is the mean
/// plus a jitter of up to one deviation either way, so that held answers spread like real rejections;
/// samples and holds are clamped to `ceiling`. Before the first rejection the estimate is `initial` with
/// half of it as the deviation. Thread-safe: one instance is shared by every shard (a `Mutex`, held briefly).
public final class RejectionTiming: Sendable {
    /// The starting estimate and the bound, in seconds.
    public struct Settings: Sendable, Equatable {
        /// The estimate before any backend rejected a login.
        public var initial: Double
        /// No hold, and no sample, counts for more than this.
        public var ceiling: Double

        public init(initial: Double = 0.5, ceiling: Double = 5) {
            self.initial = max(0, initial)
            self.ceiling = max(0, ceiling)
        }
    }

    /// The current estimate, in seconds.
    public struct Estimate: Sendable, Equatable {
        public var mean: Double
        public var deviation: Double
        /// Rejections measured so far.
        public var samples: Int

        public init(mean: Double, deviation: Double, samples: Int) {
            self.mean = mean
            self.deviation = deviation
            self.samples = samples
        }
    }

    private let settings: Settings
    private let state: Mutex<Estimate>

    public init(settings: Settings = Settings()) {
        self.settings = settings
        let initial = min(settings.initial, settings.ceiling)
        state = Mutex(Estimate(mean: initial, deviation: initial / 2, samples: 0))
    }

    /// A backend rejected a login `seconds` after the login was sent on its way (map lookup included).
    public func record(seconds: Double) {
        guard seconds.isFinite else { return }
        let sample = min(max(0, seconds), settings.ceiling)
        state.withLock { estimate in
            if estimate.samples == 0 {
                estimate.mean = sample
                estimate.deviation = sample / 2
            } else {
                estimate.deviation += (abs(estimate.mean - sample) - estimate.deviation) / 4
                estimate.mean += (sample - estimate.mean) / 8
            }
            estimate.samples = min(estimate.samples + 1, Int.max - 1)
        }
    }

    /// How long to hold an answer that needs no backend: the mean plus `jitter` (from -1 to 1) deviations.
    public func hold(jitter: Double) -> Double {
        let unit = jitter.isFinite ? min(1, max(-1, jitter)) : 0
        let estimate = state.withLock { $0 }
        return min(settings.ceiling, max(0, estimate.mean + unit * estimate.deviation))
    }

    public var estimate: Estimate { state.withLock { $0 } }
}
