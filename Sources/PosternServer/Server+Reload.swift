import Dispatch
import Foundation
import Logging
import PosternConfig
import PosternIO

/// SIGHUP: everything the configuration holds is put into service at once (runtime with TLS material, maps
/// and limits, log level, listeners, admin endpoint), or nothing is.
extension Server {
    /// Re-reads the config file. A config that fails to load or validate, TLS material or a map that cannot
    /// be loaded, or a listener or admin address that cannot be bound refuses the reload as a whole: the
    /// running configuration keeps serving. Either way the outcome gets a `ReloadRecord`, one log line, the
    /// metrics, the status file and (under systemd) `RELOADING=1` then `READY=1`. Runs on the control
    /// queue (the SIGHUP handler), one reload at a time.
    public func reload() {
        dispatchPrecondition(condition: .onQueue(control))
        guard !isDraining else {
            logger.warning("reload ignored: the server is stopping")
            return
        }
        reporter.reloading()
        let attempt = (lastReload?.attempt ?? 0) + 1
        let old = currentRuntime
        let record: ReloadRecord
        switch prepareReload(from: old) {
        case .failure(let refusal):
            record = ReloadRecord(
                generation: old.generation, at: Date(), succeeded: false, errors: refusal.errors, attempt: attempt)
            logger.error(
                "reload refused, keeping the running configuration",
                metadata: [
                    "result": "refused", "generation": "\(old.generation)", "attempt": "\(attempt)",
                    "file": "\(configPath)", "errors": "\(refusal.errors.joined(separator: "; "))",
                ])
        case .success(let change):
            let summary = commit(change, replacing: old)
            record = ReloadRecord(
                generation: change.runtime.generation, at: Date(), succeeded: true, errors: [], attempt: attempt)
            var fields: Logger.Metadata = [
                "result": "ok", "generation": "\(record.generation)", "attempt": "\(attempt)", "file": "\(configPath)",
                "map": "\(change.runtime.mapReused ? "kept" : "rebuilt")",
                "breaker": "\(change.runtime.breakerReused ? "kept" : "new")",
            ]
            fields.merge(summary) { $1 }
            logger.notice("reloaded configuration", metadata: fields)
        }
        status.withLock { $0.lastReload = record }
        stats.configLoaded(record)
        reporter.loaded(record)
    }

    /// Loads, checks and binds everything the new configuration needs without touching what serves.
    func prepareReload(from old: Runtime) -> Result<ReloadChange, ReloadRefusal> {
        let config: PosternConfig
        do {
            config = try ConfigLoader.load(path: configPath)
        } catch let errors as ConfigErrors {
            return .failure(ReloadRefusal(errors.issues.map(\.description)))
        } catch {
            return .failure(ReloadRefusal(["\(configPath): \(error)"]))
        }
        let runtime: Runtime
        let wanted: [ListenerPlan.Wanted]
        do {
            runtime = try Runtime(
                config: config, generation: old.generation + 1, mapMetrics: stats.mapMetrics, reusing: old)
            wanted = try Server.wantedListeners(config)
        } catch {
            return .failure(ReloadRefusal(["\(error)"]))
        }
        let plan = ListenerPlan(current: bindings.withLock { $0.map { ($0.id, $0.requested) } }, wanted: wanted)
        var fresh: [ListenerBinding] = []
        for entry in plan.toBind {
            do throws(IOError) {
                fresh.append(try bind(entry, keepalive: runtime.keepalive))
            } catch {
                for binding in fresh { binding.listener.stop() }
                return .failure(ReloadRefusal(["listener \(entry.name): cannot listen on \(entry.address): \(error)"]))
            }
        }
        var adminChange = ReloadChange.AdminChange.unchanged
        if config.server.adminListen != old.config.server.adminListen {
            if let spec = config.server.adminListen {
                do throws(IOError) {
                    adminChange = .replace(try AdminEndpoint(spec: spec, loop: loop, server: self))
                } catch {
                    for binding in fresh { binding.listener.stop() }
                    return .failure(ReloadRefusal(["server.admin_listen: cannot listen on \(spec): \(error)"]))
                }
            } else {
                adminChange = .replace(nil)
            }
        }
        return .success(
            ReloadChange(config: config, runtime: runtime, plan: plan, newBindings: fresh, admin: adminChange))
    }

    /// Puts a prepared reload into service; returns log fields that say what moved.
    private func commit(_ change: ReloadChange, replacing old: Runtime) -> Logger.Metadata {
        var renamed: [String] = []
        let (current, removed) = bindings.withLock { list -> ([ListenerBinding], [ListenerBinding]) in
            var kept: [ListenerBinding] = []
            var gone: [ListenerBinding] = []
            for var binding in list {
                guard let name = change.plan.kept[binding.id] else {
                    gone.append(binding)
                    continue
                }
                if name != binding.name { renamed.append("\(binding.name)->\(name)") }
                binding.name = name
                kept.append(binding)
            }
            list = kept + change.newBindings
            return (list, gone)
        }
        serving.withLock {
            $0 = ServingState(runtime: change.runtime, listeners: Server.listenerConfigs(current, change.config))
        }
        guards.update(change.config.limits)
        status.withLock { $0.boundListeners = Server.addressesByName(current) }
        // Kept listening sockets take the new keepalive, which the connections they accept from now on inherit.
        if change.runtime.keepalive != old.keepalive {
            for binding in current where !change.newBindings.contains(where: { $0.id == binding.id }) {
                binding.listener.setKeepalive(change.runtime.keepalive)
            }
        }
        for binding in change.newBindings {
            binding.listener.start()
            logListening(binding, change.config)
        }
        for binding in removed {
            binding.listener.stop()
            logger.info(
                "listener removed; draining its sessions",
                metadata: [
                    "listener": "\(binding.name)", "address": "\(binding.listener.address)",
                    "drain_seconds": "\(change.config.shutdown.drainSeconds)",
                ])
            drainRemovedListener(binding.id, seconds: change.config.shutdown.drainSeconds)
        }
        if case .replace(let endpoint) = change.admin {
            let previous = admin.withLock { slot -> AdminEndpoint? in
                let previous = slot
                slot = endpoint
                return previous
            }
            previous?.stop()
            endpoint?.start()
            logger.info(
                "admin endpoint moved", metadata: ["address": "\(change.config.server.adminListen?.description ?? "-")"]
            )
        }
        logControl.apply(change.config.server)
        stats.configure(change.runtime)
        warnAboutRestartOnlyKeys(old.config.server, change.config.server)
        for warning in change.runtime.tls.warnings { logger.warning("tls: \(warning)") }
        return [
            "listeners_added": "\(change.newBindings.count)", "listeners_removed": "\(removed.count)",
            "listeners_renamed": "\(renamed.isEmpty ? "-" : renamed.joined(separator: ","))",
        ]
    }

    /// A removed listener's sessions: before the relay the farewell goes now; relayed ones get
    /// `shutdown.drain_seconds`, then theirs.
    private func drainRemovedListener(_ binding: Int, seconds: Double) {
        for registry in sessions { registry.farewell(.listenerRemoved, binding: binding, beforeRelayOnly: true) }
        control.asyncAfter(deadline: .now() + seconds) {
            for registry in self.sessions { registry.farewell(.listenerRemoved, binding: binding) }
        }
    }

    /// Keys a running process cannot apply: said in a warning instead of ignored.
    private func warnAboutRestartOnlyKeys(_ old: ServerSettings, _ new: ServerSettings) {
        let changes: [(String, String, String)] = [
            ("server.workers", "\(old.workers)", "\(new.workers)"),
            ("server.event_loop", old.eventLoop.rawValue, new.eventLoop.rawValue),
            ("server.user", old.user ?? "-", new.user ?? "-"),
            ("server.group", old.group ?? "-", new.group ?? "-"),
            ("server.pid_file", old.pidFile ?? "-", new.pidFile ?? "-"),
        ]
        for (key, before, after) in changes where before != after {
            logger.warning(
                "reload: \(key) changed; it takes effect after a restart",
                metadata: ["key": "\(key)", "running": "\(before)", "configured": "\(after)"])
        }
    }
}
