import Dispatch
import PosternSync

@testable import PosternIO

/// A clock the test moves by hand.
final class FakeClock: Sendable {
    private let seconds = Mutex<Double>(1000)
    var now: Double { seconds.withLock { $0 } }
    func advance(_ delta: Double) { seconds.withLock { $0 += delta } }
    var clock: Resolver.Clock { { self.now } }
}

/// A lookup that counts its calls and answers from a table (a fake for `getaddrinfo`).
final class FakeLookup: Sendable {
    private let calls = Mutex<[String]>([])
    private let answers: [String: [String]]

    init(_ answers: [String: [String]]) { self.answers = answers }

    var callCount: Int { calls.withLock { $0.count } }
    var names: [String] { calls.withLock { $0 } }

    var lookup: Resolver.Lookup {
        { host, port in
            self.calls.withLock { $0.append(host) }
            guard let hosts = self.answers[host] else { return .failure(IOError(.resolution, "unknown \(host)")) }
            return .success(hosts.compactMap { SocketAddress.numeric(host: $0, port: port) })
        }
    }
}

/// A lookup that blocks until the test releases it, recording how many ran at once.
final class GatedLookup: Sendable {
    private let running = Mutex<(now: Int, most: Int, started: Int)>((0, 0, 0))
    private let gate = DispatchSemaphore(value: 0)

    var most: Int { running.withLock { $0.most } }
    var started: Int { running.withLock { $0.started } }

    func release() { gate.signal() }

    var lookup: Resolver.Lookup {
        { _, port in
            self.running.withLock {
                $0.now += 1
                $0.started += 1
                $0.most = max($0.most, $0.now)
            }
            _ = self.gate.wait(timeout: .now() + 10)
            self.running.withLock { $0.now -= 1 }
            return .success([SocketAddress.numeric(host: "127.0.0.9", port: port)!])
        }
    }
}
