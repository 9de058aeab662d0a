import PosternMap
import PosternSync

/// A map that answers each lookup when the test says so.
final class FakeMap: UserMap {
    private struct Pending {
        let query: MapQuery
        let continuation: CheckedContinuation<Route?, any Error>
    }

    private let state = Mutex<(pending: [Pending], asked: [String])>(([], []))
    /// Answers given without suspending (`immediateLookup`), by user; users not here must be asked.
    private let atOnce = Mutex<[String: Result<Route?, MapError>]>([:])

    /// From now on `user` is answered at once with `answer`, the way a file map or a cache hit answers.
    func answerAtOnce(_ user: String, with answer: Result<Route?, MapError>) {
        atOnce.withLock { $0[user] = answer }
    }

    func immediateLookup(_ query: MapQuery) throws -> ImmediateLookup {
        switch atOnce.withLock({ $0[query.user] }) {
        case nil: return .mustAsk
        case .success(let route): return .answered(route)
        case .failure(let error): throw error
        }
    }

    func lookup(_ query: MapQuery) async throws -> Route? {
        try await withCheckedThrowingContinuation { continuation in
            state.withLock {
                $0.pending.append(Pending(query: query, continuation: continuation))
                $0.asked.append(query.user)
            }
        }
    }

    /// The users asked about, in order.
    var asked: [String] { state.withLock { $0.asked } }

    /// The client address of the oldest lookup waiting for `user`.
    func clientIP(of user: String) -> String? {
        state.withLock { $0.pending.first { $0.query.user == user }?.query.clientIP }
    }

    func isWaiting(for user: String) -> Bool {
        state.withLock { $0.pending.contains { $0.query.user == user } }
    }

    /// Answers the oldest lookup for `user`; false when none waits.
    @discardableResult
    func answer(_ user: String, with route: Route?) -> Bool {
        take(user).map { $0.continuation.resume(returning: route) } != nil
    }

    @discardableResult
    func fail(_ user: String, _ message: String) -> Bool {
        fail(user, throwing: MapError(message))
    }

    @discardableResult
    func fail(_ user: String, throwing error: any Error) -> Bool {
        take(user).map { $0.continuation.resume(throwing: error) } != nil
    }

    private func take(_ user: String) -> Pending? {
        state.withLock { state in
            guard let index = state.pending.firstIndex(where: { $0.query.user == user }) else { return nil }
            return state.pending.remove(at: index)
        }
    }
}
