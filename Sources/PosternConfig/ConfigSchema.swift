import Foundation
import Yams

/// Walks a composed YAML document against the Postern schema, building `PosternConfig` and reporting
/// every problem to its collector. The result is only meaningful when no issue was reported.
struct SchemaWalker {
    let collector: IssueCollector
    /// Absolute folder of the configuration file; relative paths are resolved against it.
    let baseDirectory: String

    static let rootKeys = ["server", "listeners", "tls", "backend_tls", "backends", "map", "limits", "shutdown"]
    static let listenerKeys = [
        "name", "protocol", "listen", "tls", "tls_settings", "backend", "sasl", "managesieve",
        "proxy_protocol",
    ]
    static let backendKeys = ["port", "tls", "send_proxy", "forward_client"]

    /// What one `listeners:` entry yielded, including the nodes needed for checks across listeners.
    struct ListenerDraft {
        var name: String?
        var nameNode: Node?
        var proto: MailProtocol?
        var addresses: [(spec: SocketAddressSpec, node: Node, path: String)] = []
        var tls: ListenerTLSMode? = ListenerTLSMode.none
        var tlsKeyNode: Node?
        var backend: BackendEndpointConfig?
        /// The listener's `tls_settings:` merged over `tls:`, and its key node.
        var tlsSettings: ServerTLSConfig?
        var tlsSettingsKeyNode: Node?
        var sasl: [SASLMechanismName]? = SASLMechanismName.defaults
        var manageSieve: ManageSieveSettings?
        var proxyProtocol: ProxyProtocolConfig?

        var config: ListenerConfig? {
            guard let name, let proto, let tls, let backend, let sasl else { return nil }
            return ListenerConfig(
                name: name, proto: proto, listen: addresses.map(\.spec), tls: tls, backend: backend,
                tlsSettings: tlsSettings, sasl: sasl, manageSieve: manageSieve,
                proxyProtocol: proxyProtocol)
        }
    }

    /// The whole document. `root` is nil for an empty document.
    func walk(_ root: Node?, sourcePath: String) -> PosternConfig {
        var config = PosternConfig(
            sourcePath: sourcePath, server: ServerSettings(), listeners: [], tls: nil,
            backendTLS: BackendTLSConfig(), map: MapConfig(), limits: Limits())
        guard let root else {
            collector.report("listeners", line: 1, column: 1, "missing required key 'listeners' (the file is empty)")
            return config
        }
        guard let reader = MappingReader(root, path: "", known: Self.rootKeys, collector: collector) else {
            return config
        }
        var adminNode: Node?
        if let node = reader["server"] {
            (config.server, adminNode) = readServer(node, path: reader.path("server"), owner: reader.keyNode("server"))
        }
        if let node = reader["tls"] {
            config.tls = readServerTLS(node, path: reader.path("tls"), owner: reader.keyNode("tls"))
        }
        if let node = reader["backend_tls"] {
            config.backendTLS = readBackendTLS(
                node, path: reader.path("backend_tls"), owner: reader.keyNode("backend_tls"))
        }
        if let node = reader["backends"] {
            config.backends = readBackendHosts(node, path: reader.path("backends"), base: config.backendTLS)
        }
        if let node = reader["map"] {
            config.map = readMap(node, path: reader.path("map"), owner: reader.keyNode("map"))
        }
        if let node = reader["limits"] {
            config.limits = readLimits(node, path: reader.path("limits"), owner: reader.keyNode("limits"))
        }
        if let node = reader["shutdown"] {
            config.shutdown = readShutdown(node, path: reader.path("shutdown"), owner: reader.keyNode("shutdown"))
        }
        if let node = reader.required("listeners") {
            let drafts = readListeners(node, path: reader.path("listeners"), globalTLS: config.tls)
            checkAcrossListeners(drafts, tlsBlockGiven: reader["tls"] != nil)
            if let admin = config.server.adminListen, let adminNode {
                checkAdminAddress(admin, node: adminNode, against: drafts)
            }
            config.listeners = drafts.compactMap(\.config)
        }
        return config
    }

    // MARK: - Listeners

    func readListeners(_ node: Node, path: String, globalTLS: ServerTLSConfig?) -> [ListenerDraft] {
        guard case .sequence(let sequence) = node else {
            if node.isNull {
                collector.report(path, at: node, "at least one listener is required")
            } else {
                collector.report(path, at: node, "expected a list of listeners, found \(node.kindDescription)")
            }
            return []
        }
        if sequence.isEmpty { collector.report(path, at: node, "at least one listener is required") }
        return sequence.enumerated().map { index, item in
            guard !item.isNull else {
                collector.report("\(path)[\(index)]", at: item, "expected a listener mapping, found an empty value")
                return ListenerDraft(tls: nil)
            }
            return readListener(item, path: "\(path)[\(index)]", globalTLS: globalTLS)
        }
    }

    func readListener(_ node: Node, path: String, globalTLS: ServerTLSConfig?) -> ListenerDraft {
        var draft = ListenerDraft()
        guard let reader = MappingReader(node, path: path, known: Self.listenerKeys, collector: collector) else {
            draft.tls = nil
            return draft
        }
        if let nameNode = reader.required("name") {
            draft.nameNode = nameNode
            draft.name = listenerName(nameNode, path: reader.path("name"))
        }
        draft.proto = reader.required("protocol").flatMap {
            collector.choice($0, reader.path("protocol"), as: MailProtocol.self)
        }
        if let listen = reader.required("listen") {
            draft.addresses = listenAddresses(listen, path: reader.path("listen"))
        }
        if let tls = reader.optional("tls") {
            draft.tls = collector.choice(tls, reader.path("tls"), as: ListenerTLSMode.self)
            draft.tlsKeyNode = reader.keyNode("tls")
        }
        if let settings = reader["tls_settings"] {
            draft.tlsSettingsKeyNode = reader.keyNode("tls_settings")
            draft.tlsSettings = readServerTLS(
                settings, path: reader.path("tls_settings"), owner: reader.keyNode("tls_settings"), base: globalTLS)
            if draft.tls == ListenerTLSMode.none, let keyNode = draft.tlsSettingsKeyNode {
                collector.report(
                    reader.path("tls_settings"), at: keyNode,
                    "the listener does not use TLS (tls: none); set tls or remove tls_settings")
            }
        }
        draft.backend = reader.required("backend").flatMap {
            readBackend($0, path: reader.path("backend"), owner: reader.keyNode("backend"))
        }
        readLoginSettings(reader, into: &draft)
        if let value = reader["proxy_protocol"] {
            draft.proxyProtocol = readProxyProtocol(
                value, path: reader.path("proxy_protocol"), owner: reader.keyNode("proxy_protocol"))
        }
        return draft
    }

    func listenerName(_ node: Node, path: String) -> String? {
        guard let name = collector.nonEmptyText(node, path) else { return nil }
        let allowed = name.allSatisfy { $0.isASCIILetterOrDigit || $0 == "_" || $0 == "." || $0 == "-" }
        guard allowed else {
            collector.report(path, at: node, "invalid listener name '\(name)' (use letters, digits, '_', '.' and '-')")
            return nil
        }
        return name
    }

    /// `listen:` is one address or a non-empty list of them.
    func listenAddresses(_ node: Node, path: String) -> [(spec: SocketAddressSpec, node: Node, path: String)] {
        switch node {
        case .sequence(let sequence):
            if sequence.isEmpty { collector.report(path, at: node, "at least one listen address is required") }
            return sequence.enumerated().compactMap { index, item in
                let itemPath = "\(path)[\(index)]"
                return socketAddress(item, path: itemPath).map { ($0, item, itemPath) }
            }
        case .scalar where !node.isNull:
            return socketAddress(node, path: path).map { [($0, node, path)] } ?? []
        default:
            collector.report(
                path, at: node, "expected an address or a list of addresses, found \(node.kindDescription)")
            return []
        }
    }

    func readBackend(_ node: Node, path: String, owner: Node?) -> BackendEndpointConfig? {
        guard let reader = MappingReader(node, path: path, owner: owner, known: Self.backendKeys, collector: collector)
        else {
            return nil
        }
        let port = reader.required("port").flatMap { collector.integer($0, reader.path("port"), in: 1...65535) }
        var tls: BackendTLSMode? = BackendTLSMode.none
        if let node = reader.optional("tls") {
            tls = collector.choice(node, reader.path("tls"), as: BackendTLSMode.self)
        }
        var sendProxy: SendProxyMode? = SendProxyMode.none
        if let node = reader.optional("send_proxy") {
            sendProxy = collector.choice(node, reader.path("send_proxy"), as: SendProxyMode.self)
        }
        var forwardClient: Bool? = false
        if let node = reader.optional("forward_client") {
            forwardClient = collector.boolean(node, reader.path("forward_client"))
        }
        guard let port, let tls, let sendProxy, let forwardClient else { return nil }
        return BackendEndpointConfig(port: port, tls: tls, sendProxy: sendProxy, forwardClient: forwardClient)
    }

    /// Unique names, unique listen addresses, and a `tls:` block wherever a listener offers TLS.
    func checkAcrossListeners(_ drafts: [ListenerDraft], tlsBlockGiven: Bool) {
        var names: [String: (index: Int, node: Node)] = [:]
        var addresses: [String: (index: Int, node: Node)] = [:]
        for (index, draft) in drafts.enumerated() {
            let path = "listeners[\(index)]"
            if let name = draft.name, let node = draft.nameNode {
                if let first = names[name] {
                    collector.report(
                        "\(path).name", at: node,
                        "duplicate listener name '\(name)' (first used by listeners[\(first.index)] at line "
                            + "\(collector.line(of: first.node)))")
                } else {
                    names[name] = (index, node)
                }
            }
            for address in draft.addresses {
                let identity = AddressSyntax.identity(of: address.spec)
                if let first = addresses[identity] {
                    collector.report(
                        address.path, at: address.node,
                        "address \(address.spec) is already used by \(describe(drafts, first.index)) at line "
                            + "\(collector.line(of: first.node))")
                } else {
                    addresses[identity] = (index, address.node)
                }
            }
            if let mode = draft.tls, mode != .none, !tlsBlockGiven, draft.tlsSettingsKeyNode == nil,
                let keyNode = draft.tlsKeyNode
            {
                collector.report(
                    "\(path).tls", at: keyNode,
                    "listener uses TLS (\(mode.rawValue)) but there is no top-level 'tls' block with a "
                        + "certificate and key (nor a tls_settings block in the listener)")
            }
        }
    }

    func checkAdminAddress(_ admin: SocketAddressSpec, node: Node, against drafts: [ListenerDraft]) {
        let identity = AddressSyntax.identity(of: admin)
        for (index, draft) in drafts.enumerated() {
            if let clash = draft.addresses.first(where: { AddressSyntax.identity(of: $0.spec) == identity }) {
                collector.report(
                    "server.admin_listen", at: node,
                    "address \(admin) is also used by \(describe(drafts, index)) at line \(collector.line(of: clash.node))"
                )
                return
            }
        }
    }

    private func describe(_ drafts: [ListenerDraft], _ index: Int) -> String {
        drafts[index].name.map { "listener '\($0)'" } ?? "listeners[\(index)]"
    }

    // MARK: - Shared value readers

    /// A `host:port` socket address (IPv6 in brackets).
    func socketAddress(_ node: Node, path: String) -> SocketAddressSpec? {
        guard let text = collector.text(node, path) else { return nil }
        switch AddressSyntax.parse(text, portRequired: true) {
        case .success(let parsed):
            return parsed.port.map { SocketAddressSpec(host: parsed.host, port: $0) }
        case .failure(let problem):
            collector.report(path, at: node, problem.message)
            return nil
        }
    }

    /// A path to an existing, readable regular file, returned absolute and standardized.
    func existingFile(_ node: Node, path: String) -> String? {
        guard let raw = collector.nonEmptyText(node, path) else { return nil }
        let resolved = ConfigLoader.absolutePath(raw, relativeTo: baseDirectory)
        let shown = raw == resolved ? "'\(raw)'" : "'\(raw)' (\(resolved))"
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory) else {
            collector.report(path, at: node, "file not found: \(shown)")
            return nil
        }
        guard !isDirectory.boolValue else {
            collector.report(path, at: node, "\(shown) is a directory, not a file")
            return nil
        }
        guard FileManager.default.isReadableFile(atPath: resolved) else {
            collector.report(path, at: node, "file is not readable: \(shown)")
            return nil
        }
        return resolved
    }
}
