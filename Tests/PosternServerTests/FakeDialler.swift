import PosternIO

/// A dialler whose name answers the test delivers when it likes, and whose connects make
/// `FakeConnection`s (or throw a scripted error). Touched on the shard's queue only.
final class FakeDialler: Dialler, @unchecked Sendable {
    struct Resolve {
        let host: String
        let port: Int
        var completion: (@Sendable (Result<[SocketAddress], IOError>) -> Void)?
    }

    private(set) var resolves: [Resolve] = []
    /// Errors `connect` throws, by address (`host:port`).
    var connectErrors: [String: IOError] = [:]
    /// Every address `connect` was asked for, in order.
    private(set) var connectAttempts: [String] = []
    private(set) var connections: [FakeConnection] = []

    var resolvedHosts: [String] { resolves.map(\.host) }

    func resolve(
        host: String, port: Int, on shard: EventShard,
        completion: @escaping @Sendable (Result<[SocketAddress], IOError>) -> Void
    ) {
        resolves.append(Resolve(host: host, port: port, completion: completion))
    }

    func connect(to address: SocketAddress, on shard: EventShard) throws(IOError) -> any Connection {
        connectAttempts.append(address.description)
        if let error = connectErrors[address.description] { throw error }
        let connection = FakeConnection(peer: address)
        connections.append(connection)
        return connection
    }

    /// Delivers the answer of resolve number `index` (once; the completion is dropped after it).
    func answer(_ index: Int, _ result: Result<[SocketAddress], IOError>) {
        let completion = resolves[index].completion
        resolves[index].completion = nil
        completion?(result)
    }

    func answer(_ index: Int, addresses: [String], port: Int = 143) {
        answer(index, .success(addresses.map { address($0, port) }))
    }
}

/// A numeric socket address.
func address(_ host: String, _ port: Int = 143) -> SocketAddress {
    // Numeric addresses always resolve.
    (try? SocketAddress.resolve(host: host, port: port, numericOnly: true))!.first!
}
