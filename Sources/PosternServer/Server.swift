import Dispatch
import Foundation
import Logging
import PosternConfig
import PosternIO
import PosternLog
import PosternProcess
import PosternSync

/// The running proxy: the bound listeners, the event loop, the runtime in service, reloads, the drain,
/// signals and the admin endpoint.
public final class Server: Sendable {
    public let stats = Stats()
    /// The level every logger writes at (and the format, for handlers that read it); reloads set it.
    public let logControl: LogControl
    let loop: EventLoop
    let logger: Logger
    let configPath: String
    /// The runtime and the listener of each binding, swapped at once by a reload.
    let serving: Mutex<ServingState>
    /// The bound listening sockets; changed on `control` only.
    let bindings = Mutex<[ListenerBinding]>([])
    private let nextBindingID = Atomic<Int>(1)
    let sessions: [ShardSessions]
    private let sessionCounter = Atomic<UInt64>(0)
    let draining = Atomic<Bool>(false)
    let status = Mutex(ServerStatusState())
    /// Where reloads, the drain and signals run, one at a time.
    let control = DispatchQueue(label: "postern.control")
    let admin = Mutex<AdminEndpoint?>(nil)
    let drainState = Mutex<DrainState>(.serving)
    let stopped = DispatchSemaphore(value: 0)
    let reporter: LifecycleReporter
    /// The connection limiter and the login throttle: kept across reloads, which only change their limits.
    let guards: SessionGuards
    /// Drained backends and connect records, kept across reloads (the admin API's `/backends`).
    public let backends = BackendRegistry()
    /// The status page's last 15 minutes (sampled from `start()` on).
    let statusHistory = StatusHistory()
    /// The signal sources, and the signals held until `runUntilStopped`.
    let signalGate = Mutex(SignalGate())

    /// Builds the runtime from a loaded config; fails if TLS material or maps cannot be loaded, or the status
    /// file next to `server.pid_file` cannot be opened. `NOTIFY_SOCKET` in `environment` turns systemd
    /// notifications on.
    public init(
        config: PosternConfig, logger: Logger, logControl: LogControl = LogControl(),
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(RuntimeError) {
        self.logger = logger
        self.logControl = logControl
        self.configPath = config.sourcePath
        let kind: EventLoopKind =
            switch config.server.eventLoop {
            case .dispatchSources: .dispatchSources
            case .dispatchEpoll: .dispatchEpoll
            case .epollThread: .epollThread
            }
        self.loop = EventLoop(workers: config.server.workers, readBufferSize: 65536, kind: kind)
        self.sessions = loop.shards.map { ShardSessions(shard: $0) }
        let first = try Runtime(config: config, generation: 1, mapMetrics: stats.mapMetrics)
        self.guards = SessionGuards(limits: config.limits)
        self.serving = Mutex(ServingState(runtime: first, listeners: [:]))
        stats.configure(first)
        logControl.apply(config.server)
        var notifier: SystemdNotifier?
        do {
            notifier = try SystemdNotifier.fromEnvironment(environment)
        } catch {
            logger.warning("systemd notify disabled", metadata: ["error": "\(error)"])
        }
        let statusFile = try config.server.pidFile.map { path throws(RuntimeError) in
            try ReloadStatusFile(path: ReloadStatus.path(forPidFile: path))
        }
        reporter = LifecycleReporter(notifier: notifier, statusFile: statusFile, logger: logger)
        for warning in first.tls.warnings { logger.warning("tls: \(warning)") }
    }

    public var currentRuntime: Runtime { serving.withLock { $0.runtime } }

    /// Binds every listener and the admin endpoint, then starts accepting. Nothing stays bound on failure.
    public func start() throws(IOError) {
        let runtime = currentRuntime
        var bound: [ListenerBinding] = []
        do throws(IOError) {
            for entry in try Server.wantedListeners(runtime.config) {
                bound.append(try bind(entry, keepalive: runtime.keepalive))
            }
        } catch {
            for binding in bound { binding.listener.stop() }
            throw error
        }
        var endpoint: AdminEndpoint?
        if let adminSpec = runtime.config.server.adminListen {
            do throws(IOError) {
                endpoint = try AdminEndpoint(spec: adminSpec, loop: loop, server: self)
            } catch {
                for binding in bound { binding.listener.stop() }
                throw error
            }
            logger.info("admin endpoint listening", metadata: ["address": "\(adminSpec)"])
        }
        bindings.withLock { $0 = bound }
        serving.withLock { $0.listeners = Server.listenerConfigs(bound, runtime.config) }
        let record = ReloadRecord(generation: runtime.generation, at: Date(), succeeded: true, errors: [])
        status.withLock { state in
            state.lastReload = record
            state.boundListeners = Server.addressesByName(bound)
        }
        for binding in bound {
            binding.listener.start()
            logListening(binding, runtime.config)
        }
        admin.withLock { $0 = endpoint }
        endpoint?.start()
        stats.configLoaded(record)
        reporter.loaded(record)
        startStatusHistory()
    }

    /// Start-up is over (listeners bound, privileges dropped): tells systemd `READY=1`.
    public func announceReady() { reporter.ready(generation: generation) }

    /// Binds one listening socket (not accepting yet), with the `keepalive` accepted sockets inherit.
    func bind(_ entry: ListenerPlan.Wanted, keepalive: TCPKeepalive?) throws(IOError) -> ListenerBinding {
        let id = nextBindingID.wrappingAdd(1, ordering: .relaxed).oldValue
        // On a specific address every accepted socket's local address is that one: no getsockname per connection.
        let local = entry.address.isSpecific ? entry.address : nil
        let listener = try Listener(
            address: entry.address, loop: loop, keepalive: keepalive,
            onError: { [logger] message in logger.error("\(message)") },
            onAccept: { [weak self] fd, peer, shard in
                guard let self else {
                    close(fd)
                    return
                }
                self.accept(fd: fd, peer: peer, local: local, shard: shard, binding: id)
            })
        return ListenerBinding(id: id, requested: entry.address, listener: listener, name: entry.name)
    }

    private func accept(fd: Int32, peer: SocketAddress?, local: SocketAddress?, shard: EventShard, binding: Int) {
        let (runtime, found) = serving.withLock { ($0.runtime, $0.listeners[binding]) }
        guard !draining.load(ordering: .relaxed), let listenerConfig = found else {
            if draining.load(ordering: .relaxed), let name = found?.name {
                stats.table.listener(name).refusedConnection(.draining)
            }
            close(fd)
            return
        }
        let registry = sessions[shard.index]
        let number = sessionCounter.wrappingAdd(1, ordering: .relaxed).newValue
        let context = SessionContext(
            shard: shard, runtime: runtime, listener: listenerConfig, stats: stats, logger: logger, guards: guards,
            backends: backends, metrics: stats.table)
        let endpoint = Endpoint(fd: fd, shard: shard, peer: peer)
        let session = Session(
            id: String(number, radix: 36), client: endpoint, clientAddress: peer?.description ?? "unknown",
            localAddress: local ?? endpoint.localAddress, context: context,
            onEnd: { session in registry.remove(session) })
        registry.add(session, binding: binding)
        session.start()
    }

    func logListening(_ binding: ListenerBinding, _ config: PosternConfig) {
        guard let listenerConfig = config.listeners.first(where: { $0.name == binding.name }) else { return }
        logger.info(
            "listening",
            metadata: [
                "listener": "\(binding.name)", "address": "\(binding.listener.address)",
                "protocol": "\(listenerConfig.proto.rawValue)", "tls": "\(listenerConfig.tls.rawValue)",
            ])
    }

    /// True while the server accepts connections (for `/health`).
    public var isHealthy: Bool { !draining.load(ordering: .relaxed) }
}
