/// Login attempts counted by result (one slot per `LoginResult`): a listener's total so far, or the
/// difference between two totals.
struct LoginCounts: Sendable, Equatable {
    private(set) var values: [Int] = Array(repeating: 0, count: LoginResult.allCases.count)

    init() {}

    subscript(result: LoginResult) -> Int {
        get { values[LoginCounts.slot(result)] }
        set { values[LoginCounts.slot(result)] = newValue }
    }

    var total: Int { values.reduce(0, +) }
    /// Every attempt that did not end with a relayed session.
    var failed: Int { total - self[.ok] }

    /// `self - earlier`, each result on its own (never below zero).
    func since(_ earlier: LoginCounts) -> LoginCounts {
        var out = LoginCounts()
        for index in values.indices { out.values[index] = max(0, values[index] - earlier.values[index]) }
        return out
    }

    /// The sum of several counts.
    static func sum(_ counts: some Sequence<LoginCounts>) -> LoginCounts {
        var out = LoginCounts()
        for count in counts {
            for index in out.values.indices { out.values[index] += count.values[index] }
        }
        return out
    }

    /// Result label to count, every result present.
    var byLabel: [String: Int] {
        Dictionary(uniqueKeysWithValues: LoginResult.allCases.map { ($0.rawValue, self[$0]) })
    }

    private static func slot(_ result: LoginResult) -> Int {
        LoginResult.allCases.firstIndex(of: result) ?? 0
    }
}
