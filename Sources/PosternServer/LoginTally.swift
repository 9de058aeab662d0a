import PosternSync

/// Every listener's login attempts by result since the process started, kept across reloads: what the status
/// page's "logins per minute" and login chart are computed from. One lock per finished login.
public final class LoginTally: Sendable {
    /// At most this many listener names are kept (a reload may rename listeners; old names stay counted).
    static let capacity = 256
    private let counts = Mutex<[String: LoginCounts]>([:])

    public init() {}

    func record(listener: String, result: LoginResult) {
        counts.withLock { counts in
            guard counts[listener] != nil || counts.count < LoginTally.capacity else { return }
            counts[listener, default: LoginCounts()][result] += 1
        }
    }

    /// The totals now, by listener name.
    func snapshot() -> [String: LoginCounts] {
        counts.withLock { $0 }
    }
}
