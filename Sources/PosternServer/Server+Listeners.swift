import PosternConfig
import PosternIO

/// The listeners a configuration asks for, and the tables built from the bound ones.
extension Server {
    /// Every `listen:` address of the configuration, resolved, with its listener's name (in config order).
    static func wantedListeners(_ config: PosternConfig) throws(IOError) -> [ListenerPlan.Wanted] {
        var wanted: [ListenerPlan.Wanted] = []
        for listener in config.listeners {
            for spec in listener.listen {
                guard let address = try SocketAddress.resolve(host: spec.host, port: spec.port).first else {
                    throw IOError("listener \(listener.name): cannot resolve \(spec)")
                }
                wanted.append(ListenerPlan.Wanted(name: listener.name, address: address))
            }
        }
        return wanted
    }

    /// Binding id to the configuration of the listener it serves.
    static func listenerConfigs(_ bindings: [ListenerBinding], _ config: PosternConfig) -> [Int: ListenerConfig] {
        var table: [Int: ListenerConfig] = [:]
        for binding in bindings {
            table[binding.id] = config.listeners.first { $0.name == binding.name }
        }
        return table
    }

    /// Listener name to the addresses its sockets are bound to.
    static func addressesByName(_ bindings: [ListenerBinding]) -> [String: [SocketAddress]] {
        var table: [String: [SocketAddress]] = [:]
        for binding in bindings { table[binding.name, default: []].append(binding.listener.address) }
        return table
    }
}
