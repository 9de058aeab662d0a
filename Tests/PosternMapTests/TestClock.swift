import PosternMap
import PosternSync

/// A clock the test moves by hand.
final class ManualClock: MapClock {
    private let time = Mutex<Double>(1000)
    func now() -> Double { time.withLock { $0 } }
    func advance(_ seconds: Double) { time.withLock { $0 += seconds } }
}

/// A map whose answers and failures the test sets; it counts how often it was asked.
final class ScriptedMap: UserMap {
    private let state = Mutex<(routes: [String: Route], failure: String?, asked: Int)>(([:], nil, 0))

    init(_ routes: [String: Route] = [:]) {
        state.withLock { $0.routes = routes }
    }

    var asked: Int { state.withLock { $0.asked } }
    func fail(_ message: String?) { state.withLock { $0.failure = message } }
    func set(_ user: String, _ route: Route?) { state.withLock { $0.routes[user] = route } }

    func lookup(_ query: MapQuery) async throws -> Route? {
        let (route, failure): (Route?, String?) = state.withLock {
            $0.asked += 1
            return ($0.routes[query.user], $0.failure)
        }
        if let failure { throw MapError(failure) }
        return route
    }
}
