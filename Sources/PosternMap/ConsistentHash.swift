import PosternConfig

/// Places users on a list of servers so that the same user always gets the same order, and adding or
/// removing one of N servers moves only about 1/N of the users.
public protocol ServerPlacement: Sendable {
    /// Every server, the user's own first, then the failover order.
    func order(for key: String) -> [BackendAddress]
}

/// A stable 64-bit hash (FNV-1a, then a MurmurHash3 finalizer): the same in every process and run.
public enum StableHash {
    public static func hash(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        hash ^= hash >> 33
        hash &*= 0xff51_afd7_ed55_8ccd
        hash ^= hash >> 33
        hash &*= 0xc4ce_b9fe_1a85_ec53
        hash ^= hash >> 33
        return hash
    }
}

/// Rendezvous (highest random weight) hashing: each server scores hash(server, user); highest first.
public struct RendezvousPlacement: ServerPlacement {
    public let servers: [BackendAddress]
    public init(servers: [BackendAddress]) { self.servers = servers }

    public func order(for key: String) -> [BackendAddress] {
        servers.map { (server: $0, score: StableHash.hash("\($0.description)\u{0}\(key)")) }
            .sorted { $0.score != $1.score ? $0.score > $1.score : $0.server.description < $1.server.description }
            .map(\.server)
    }
}

/// A hash ring with virtual nodes: the user's point on the ring, then the next distinct servers clockwise.
public struct RingPlacement: ServerPlacement {
    public let servers: [BackendAddress]
    private let points: [(point: UInt64, server: Int)]

    public init(servers: [BackendAddress], virtualNodes: Int = 160) {
        self.servers = servers
        var points: [(point: UInt64, server: Int)] = []
        for (index, server) in servers.enumerated() {
            for replica in 0..<virtualNodes {
                points.append((StableHash.hash("\(server.description)#\(replica)"), index))
            }
        }
        self.points = points.sorted { $0.point < $1.point }
    }

    public func order(for key: String) -> [BackendAddress] {
        guard !points.isEmpty else { return [] }
        let hash = StableHash.hash(key)
        var low = 0
        var high = points.count
        while low < high {
            let mid = (low + high) / 2
            if points[mid].point < hash { low = mid + 1 } else { high = mid }
        }
        var seen: [Int] = []
        var index = low % points.count
        for _ in 0..<points.count where seen.count < servers.count {
            let server = points[index].server
            if !seen.contains(server) { seen.append(server) }
            index = (index + 1) % points.count
        }
        return seen.map { servers[$0] }
    }
}

/// The placement for a method.
public func makePlacement(_ method: HashingMethod, servers: [BackendAddress]) -> any ServerPlacement {
    switch method {
    case .rendezvous: return RendezvousPlacement(servers: servers)
    case .ring: return RingPlacement(servers: servers)
    }
}
