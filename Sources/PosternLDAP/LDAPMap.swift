import Dispatch
import Foundation
import PosternConfig
import PosternMap
import PosternSync

/// The LDAP map's settings, with the bind password read from its file.
public struct LDAPSettings: Sendable {
    public var uris: [String]
    public var bindDN: String?
    var password: String?
    public var base: String
    public var scope: LDAPScope
    public var filter: String
    public var hostAttribute: String
    public var portAttribute: String?
    public var userAttribute: String?
    public var timeout: Double
    public var startTLS: Bool
    public var caFile: String?
    public var verify: Bool
    public var poolSize: Int
    public var domainDelimiter: String
    /// Reconnect back-off after a failed connect: doubles from `backoffInitial` up to `backoffMax` seconds.
    public var backoffInitial: Double = 0.25
    public var backoffMax: Double = 5

    /// From the config; reads the password file (its first line).
    public init(_ config: LDAPMapConfig, domainDelimiter: String = "@") throws(MapError) {
        uris = config.uris
        bindDN = config.bindDN
        if let file = config.passwordFile {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw MapError("map.ldap.password_file: cannot read \(file)")
            }
            password = String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
                .trimmingCharacters(in: CharacterSet(charactersIn: "\r"))
        }
        base = config.base
        scope = config.scope
        filter = config.filter
        hostAttribute = config.hostAttribute
        portAttribute = config.portAttribute
        userAttribute = config.userAttribute
        timeout = config.timeout
        startTLS = config.startTLS
        caFile = config.caFile
        verify = config.verify
        poolSize = config.poolSize
        self.domainDelimiter = domainDelimiter
    }

    /// The attributes asked for.
    var attributes: [String] {
        [hostAttribute] + [portAttribute, userAttribute].compactMap { $0 }
    }
}

/// Per-URI reconnect back-off shared by the pool's connections.
final class ReconnectBackoff: Sendable {
    private let state = Mutex<[String: (failures: Int, retryAt: Double)]>([:])
    let initial: Double
    let maximum: Double
    let clock: any MapClock

    init(initial: Double, maximum: Double, clock: any MapClock) {
        self.initial = initial
        self.maximum = maximum
        self.clock = clock
    }

    /// Seconds to wait before `uri` may be tried; 0 if now.
    func wait(_ uri: String) -> Double {
        let now = clock.now()
        return state.withLock { max(0, ($0[uri]?.retryAt ?? 0) - now) }
    }

    func failed(_ uri: String) {
        let now = clock.now()
        state.withLock { state in
            let failures = (state[uri]?.failures ?? 0) + 1
            let delay = min(maximum, initial * pow(2, Double(min(failures - 1, 30))))
            state[uri] = (failures, now + delay)
        }
    }

    func succeeded(_ uri: String) {
        _ = state.withLock { $0.removeValue(forKey: uri) }
    }
}

/// A user map backed by an LDAP directory (OpenLDAP's libldap).
///
/// A small pool of connections is kept; each has its own serial Dispatch queue on which its blocking libldap
/// calls run, so nothing blocks the event loop's queues or Swift's cooperative threads. A lookup waits at most
/// `timeout` seconds in all, even when the directory accepts connections but never answers.
public final class LDAPMap: UserMap, Sendable {
    public let settings: LDAPSettings
    let slots: [LDAPSlot]
    let backoff: ReconnectBackoff
    let metrics: MapMetricsSink

    public init(settings: LDAPSettings, metrics: MapMetricsSink = .none, clock: any MapClock = SystemClock()) {
        self.settings = settings
        self.metrics = metrics
        self.backoff = ReconnectBackoff(initial: settings.backoffInitial, maximum: settings.backoffMax, clock: clock)
        self.slots = (0..<max(1, settings.poolSize)).map { LDAPSlot(index: $0) }
    }

    public var description: String { "ldap \(settings.uris.joined(separator: " "))" }

    public func lookup(_ query: MapQuery) async throws -> Route? {
        let values = TemplateValues(user: query.user, delimiter: settings.domainDelimiter, clientIP: query.clientIP)
        let filter = LDAPFilter.build(settings.filter, values)
        query.note("ldap: search base '\(settings.base)' scope \(settings.scope.rawValue) filter \(filter)")
        let slot = slots.min { $0.pending.load(ordering: .relaxed) < $1.pending.load(ordering: .relaxed) } ?? slots[0]
        slot.pending.add(1, ordering: .relaxed)
        let settings = self.settings
        let backoff = self.backoff
        let timeout = settings.timeout
        let result: Result<(SearchOutcome, String, [String]), LDAPFailure> = await withCheckedContinuation {
            continuation in
            let once = ResumeOnce(continuation)
            slot.queue.async {
                defer { slot.pending.subtract(1, ordering: .relaxed) }
                guard !once.done else { return }
                let outcome = slot.perform(filter: filter, settings: settings, backoff: backoff)
                if !once.resume(outcome), case .failure = outcome {
                    slot.drop()
                }
            }
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) {
                if once.resume(.failure(LDAPFailure(kind: .timeout, message: "no answer within \(timeout) s"))) {
                    // The connection is stuck in a call: it is dropped once that call returns.
                    slot.poisoned.store(true, ordering: .relaxed)
                }
            }
        }
        switch result {
        case .failure(let failure):
            metrics.count("postern_ldap_requests_total", [("result", failure.kind == .timeout ? "timeout" : "error")])
            query.note("ldap: failed: \(failure.message)")
            throw MapError("LDAP: \(failure.message)")
        case .success((.notFound, let uri, let notes)):
            for note in notes { query.note("ldap: \(note)") }
            metrics.count("postern_ldap_requests_total", [("result", "not-found")])
            query.note("ldap: \(uri): no entry")
            return nil
        case .success((.ambiguous(let count), let uri, let notes)):
            for note in notes { query.note("ldap: \(note)") }
            metrics.count("postern_ldap_requests_total", [("result", "ambiguous")])
            query.note("ldap: \(uri): \(count >= 2 ? "more than one" : "\(count)") entries match: treated as no entry")
            return nil
        case .success((.entry(let dn, let attributes), let uri, let notes)):
            for note in notes { query.note("ldap: \(note)") }
            metrics.count("postern_ldap_requests_total", [("result", "found")])
            return route(dn: dn, attributes: attributes, uri: uri, query: query)
        }
    }

    /// The route an entry gives: hosts (several values or a comma list), a port for hosts without one, a user.
    func route(dn: String, attributes: [String: [String]], uri: String, query: MapQuery) -> Route? {
        let hosts = attributes[settings.hostAttribute.lowercased()] ?? []
        guard !hosts.isEmpty else {
            query.note("ldap: \(uri): entry \(dn) has no \(settings.hostAttribute): treated as no entry")
            return nil
        }
        guard case .success(var value) = MapValue.parse(hosts.joined(separator: ",")) else {
            let shown = hosts.joined(separator: ",")
            let text = shown.count > 200 ? "\(shown.prefix(200))... (\(shown.utf8.count) bytes)" : shown
            query.note("ldap: \(uri): entry \(dn): \(settings.hostAttribute) '\(text)' is not a server list")
            return nil
        }
        if let name = settings.portAttribute, let text = attributes[name.lowercased()]?.first {
            if let port = Int(text.trimmingCharacters(in: .whitespaces)), (1...65535).contains(port) {
                for index in value.servers.indices where value.servers[index].port == nil {
                    value.servers[index].port = port
                }
            } else {
                query.note("ldap: \(uri): entry \(dn): ignoring bad \(name) '\(text)'")
            }
        }
        if let name = settings.userAttribute, let user = attributes[name.lowercased()]?.first, !user.isEmpty {
            value.backendUser = user
        }
        let servers = value.servers.map(\.description).joined(separator: ", ")
        query.note("ldap: \(uri): entry \(dn) -> \(servers)\(value.backendUser.map { " as '\($0)'" } ?? "")")
        return Route(servers: value.servers, reason: "ldap \(dn)", backendUser: value.backendUser)
    }
}

/// Resumes a continuation exactly once, from whichever side comes first.
final class ResumeOnce<Value: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<Value, Never>?>

    init(_ continuation: CheckedContinuation<Value, Never>) {
        self.continuation = Mutex(continuation)
    }

    var done: Bool { continuation.withLock { $0 == nil } }

    /// True if this call resumed it.
    @discardableResult
    func resume(_ value: Value) -> Bool {
        guard let continuation = continuation.withLock({ $0.take() }) else { return false }
        continuation.resume(returning: value)
        return true
    }
}

/// One pooled connection and the serial queue its libldap calls run on.
final class LDAPSlot: @unchecked Sendable {
    let queue: DispatchQueue
    let pending = Atomic<Int>(0)
    /// Set when a caller gave up on a call still running: the connection is not reused.
    let poisoned = Atomic<Bool>(false)
    /// Touched only on `queue`.
    private var connection: LDAPConnection?

    init(index: Int) {
        queue = DispatchQueue(label: "postern.ldap.\(index)")
    }

    /// Closes the connection (on the queue).
    func drop() {
        connection?.close()
        connection = nil
    }

    /// Runs one search on this slot's connection, connecting first if needed; a reused connection that
    /// turns out to be broken is replaced once. Runs on `queue` and may block up to the timeouts.
    /// The result carries the URI that answered and notes about URIs that failed before it.
    func perform(filter: String, settings: LDAPSettings, backoff: ReconnectBackoff) -> Result<
        (SearchOutcome, String, [String]), LDAPFailure
    > {
        dispatchPrecondition(condition: .onQueue(queue))
        if poisoned.exchange(false, ordering: .relaxed) { drop() }
        var notes: [String] = []
        for attempt in 0..<2 {
            let reused = connection != nil
            if connection == nil {
                switch connect(settings: settings, backoff: backoff) {
                case .success((let fresh, let skipped)):
                    connection = fresh
                    notes += skipped.map { "\($0); failed over to \(fresh.uri)" }
                case .failure(let failure): return .failure(failure)
                }
            }
            guard let current = connection else { break }
            do {
                let outcome = try current.search(filter: filter, settings: settings)
                return .success((outcome, current.uri, notes))
            } catch {
                drop()
                if error.kind == .unreachable && reused && attempt == 0 { continue }
                if error.kind == .unreachable { backoff.failed(current.uri) }
                return .failure(error)
            }
        }
        return .failure(LDAPFailure(kind: .unreachable, message: "no connection"))
    }

    /// The first URI (in order) that is not backing off and accepts a connection and the bind.
    private func connect(settings: LDAPSettings, backoff: ReconnectBackoff) -> Result<
        (LDAPConnection, [String]), LDAPFailure
    > {
        var problems: [String] = []
        var waits: [Double] = []
        for uri in settings.uris {
            let wait = backoff.wait(uri)
            if wait > 0 {
                waits.append(wait)
                problems.append("\(uri): backing off after a failure, next try in \(String(format: "%.1f", wait)) s")
                continue
            }
            do {
                let connection = try LDAPConnection.open(uri: uri, settings: settings)
                backoff.succeeded(uri)
                return .success((connection, problems))
            } catch {
                backoff.failed(uri)
                problems.append(error.message)
            }
        }
        return .failure(LDAPFailure(kind: .unreachable, message: problems.joined(separator: "; ")))
    }
}
