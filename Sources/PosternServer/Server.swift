import Dispatch
import Foundation
import Logging
import PosternConfig
import PosternIO
import PosternLog
import Synchronization

/// The running proxy: listeners, the event loop, the current runtime, signals and the admin endpoint.
public final class Server: Sendable {
    public let stats = Stats()
    /// The level and format every logger of the process reads (`server.log_level`, `server.log_format`).
    public let logControl: LogControl
    /// Drained backends and connect records, kept across reloads (the admin API's `/backends`).
    public let backends = BackendRegistry()
    private let loop: EventLoop
    let logger: Logger
    private let configPath: String
    private let runtime: Mutex<Runtime>
    let listeners = Mutex<[Listener]>([])
    let sessions: [ShardSessions]
    private let sessionCounter = Atomic<UInt64>(0)
    let draining = Atomic<Bool>(false)
    private let control = DispatchQueue(label: "postern.control")
    private let admin = Mutex<AdminEndpoint?>(nil)
    private let stopped = DispatchSemaphore(value: 0)

    /// Builds the runtime from a loaded config; fails if TLS material or maps cannot be loaded. `logControl`
    /// is the one the process's log handlers read (set from the config here and on every reload).
    public init(config: PosternConfig, logger: Logger, logControl: LogControl = LogControl()) throws(RuntimeError) {
        self.logger = logger
        self.logControl = logControl
        self.configPath = config.sourcePath
        self.loop = EventLoop(workers: config.server.workers, readBufferSize: 65536)
        self.sessions = loop.shards.map { ShardSessions(shard: $0) }
        let first = try Runtime(config: config, generation: 1, mapMetrics: stats.mapMetrics)
        self.runtime = Mutex(first)
        stats.configure(first)
        logControl.apply(config.server)
        for warning in first.tls.warnings { logger.warning("tls: \(warning)") }
    }

    public var currentRuntime: Runtime { runtime.withLock { $0 } }

    /// Binds every listener and the admin endpoint, then starts accepting.
    public func start() throws(IOError) {
        let config = currentRuntime.config
        var bound: [Listener] = []
        for listenerConfig in config.listeners {
            for spec in listenerConfig.listen {
                let address: SocketAddress
                do throws(IOError) {
                    guard let first = try SocketAddress.resolve(host: spec.host, port: spec.port).first else {
                        throw IOError("cannot resolve \(spec)")
                    }
                    address = first
                } catch {
                    for listener in bound { listener.stop() }
                    throw error
                }
                let name = listenerConfig.name
                let listener: Listener
                do throws(IOError) {
                    listener = try Listener(
                        address: address, loop: loop, keepalive: currentRuntime.keepalive,
                        onError: { [logger] message in logger.error("\(message)") },
                        onAccept: { [weak self] fd, peer, shard in
                            guard let self else {
                                close(fd)
                                return
                            }
                            self.accept(fd: fd, peer: peer, shard: shard, listenerName: name)
                        })
                } catch {
                    for listener in bound { listener.stop() }
                    throw error
                }
                bound.append(listener)
                logger.info(
                    "listening",
                    metadata: [
                        "listener": "\(name)", "address": "\(listener.address)",
                        "protocol": "\(listenerConfig.proto.rawValue)", "tls": "\(listenerConfig.tls.rawValue)",
                    ])
            }
        }
        if let adminSpec = config.server.adminListen {
            do throws(IOError) {
                let endpoint = try AdminEndpoint(spec: adminSpec, loop: loop, server: self)
                admin.withLock { $0 = endpoint }
                logger.info("admin endpoint listening", metadata: ["address": "\(adminSpec)"])
            } catch {
                for listener in bound { listener.stop() }
                throw error
            }
        }
        listeners.withLock { $0 = bound }
        for listener in bound { listener.start() }
        admin.withLock { $0?.start() }
    }

    private func accept(fd: Int32, peer: SocketAddress?, shard: EventShard, listenerName: String) {
        let runtime = currentRuntime
        guard !draining.load(ordering: .relaxed),
            let listenerConfig = runtime.config.listeners.first(where: { $0.name == listenerName })
        else {
            if draining.load(ordering: .relaxed) { stats.table.listener(listenerName).refusedConnection(.draining) }
            close(fd)
            return
        }
        let registry = sessions[shard.index]
        let metrics = stats.table
        if stats.activeSessions >= runtime.config.limits.maxSessions {
            metrics.listener(listenerName).refusedConnection(.maxConnections)
            logger.warning(
                "session limit reached; refusing connection", metadata: ["client": "\(peer?.description ?? "?")"])
            let message = Runtime.refusal(for: listenerConfig.proto)
            if listenerConfig.tls != .implicit { _ = message.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) } }
            close(fd)
            return
        }
        let number = sessionCounter.wrappingAdd(1, ordering: .relaxed).newValue
        let context = SessionContext(
            shard: shard, runtime: runtime, listener: listenerConfig, stats: stats, logger: logger, backends: backends,
            metrics: metrics)
        let session = Session(
            id: String(number, radix: 36), client: Endpoint(fd: fd, shard: shard),
            clientAddress: peer?.description ?? "unknown", context: context,
            onEnd: { session in registry.remove(session) })
        registry.add(session)
        session.start()
    }

    /// SIGHUP reloads the config; SIGTERM and SIGINT stop gracefully. Blocks until stopped.
    public func runUntilStopped() {
        signal(SIGPIPE, SIG_IGN)
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGHUP, SIGTERM, SIGINT] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: control)
            source.setEventHandler { [weak self] in
                guard let self else { return }
                if number == SIGHUP {
                    self.reload()
                } else {
                    self.stop(reason: number == SIGTERM ? "SIGTERM" : "SIGINT")
                }
            }
            source.resume()
            sources.append(source)
        }
        stopped.wait()
        // The sources live until here: the wait above is the whole life of the server.
        for source in sources { source.cancel() }
    }

    /// Re-reads the config file. A config that fails to load or validate leaves the current one in service.
    public func reload() {
        let old = currentRuntime
        do {
            let config = try ConfigLoader.load(path: configPath)
            if config.listeners.map(\.listen) != old.config.listeners.map(\.listen)
                || config.listeners.map(\.name) != old.config.listeners.map(\.name)
            {
                logger.warning("reload: listener names or addresses changed; they take effect after a restart")
            }
            let next = try Runtime(config: config, generation: old.generation + 1, mapMetrics: stats.mapMetrics)
            runtime.withLock { $0 = next }
            stats.reload(succeeded: true)
            stats.configure(next)
            logControl.apply(config.server)
            for warning in next.tls.warnings { logger.warning("tls: \(warning)") }
            logger.info(
                "reloaded configuration", metadata: ["generation": "\(next.generation)", "file": "\(configPath)"])
        } catch let errors as ConfigErrors {
            stats.reload(succeeded: false)
            for issue in errors.issues {
                logger.error("reload refused, keeping the running configuration: \(issue)")
            }
        } catch {
            stats.reload(succeeded: false)
            logger.error("reload refused, keeping the running configuration: \(error)")
        }
    }

    /// Stops accepting, tells pre-login clients, waits briefly for sessions to end, then returns from `runUntilStopped`.
    public func stop(reason: String) {
        guard !draining.exchange(true, ordering: .relaxed) else { return }
        logger.info("stopping", metadata: ["reason": "\(reason)", "sessions": "\(stats.activeSessions)"])
        for listener in listeners.withLock({ $0 }) { listener.stop() }
        for registry in sessions { registry.shutdownAll() }
        let deadline = Date().addingTimeInterval(5)
        control.async { self.waitForSessions(until: deadline) }
    }

    private func waitForSessions(until deadline: Date) {
        if stats.activeSessions == 0 || Date() >= deadline {
            logger.info("stopped", metadata: ["sessions_left": "\(stats.activeSessions)"])
            stopped.signal()
            return
        }
        control.asyncAfter(deadline: .now() + .milliseconds(50)) { self.waitForSessions(until: deadline) }
    }

    /// True while the server accepts connections (for `/health`).
    public var isHealthy: Bool { !draining.load(ordering: .relaxed) }
}

/// The sessions of one shard, touched on that shard's queue only.
final class ShardSessions: @unchecked Sendable {
    let shard: EventShard
    private(set) var sessions: [ObjectIdentifier: Session] = [:]

    init(shard: EventShard) { self.shard = shard }

    func add(_ session: Session) { sessions[ObjectIdentifier(session)] = session }
    func remove(_ session: Session) { sessions.removeValue(forKey: ObjectIdentifier(session)) }

    func shutdownAll() {
        shard.queue.async {
            for session in Array(self.sessions.values) { session.shutdown() }
        }
    }
}
