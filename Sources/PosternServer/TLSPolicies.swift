import Foundation
import PosternConfig
import PosternMap
import PosternTLS

/// How Postern connects to one backend: the TLS context and the name it checks, and the login options.
public struct BackendPolicy: Sendable {
    /// The client context (the global `backend_tls:` one, or a `backends:` entry's).
    public let context: TLSContext
    /// The name sent by SNI and checked in the certificate; nil means the host the map gave.
    public let serverName: String?
    /// Overrides the listener's `backend.tls` for this backend.
    public let mode: BackendTLSMode?
    public let allowPlaintextFallback: Bool
    /// The `backends:` entry it came from (`host` or `host:port`), or nil for the global settings.
    public let entry: String?
    /// `context` offering each protocol's ALPN id (one shared `SSL_CTX`).
    let byProtocol: [MailProtocol: TLSContext]

    init(
        context: TLSContext, serverName: String?, mode: BackendTLSMode?, allowPlaintextFallback: Bool, entry: String?
    ) throws(TLSError) {
        self.context = context
        self.serverName = serverName
        self.mode = mode
        self.allowPlaintextFallback = allowPlaintextFallback
        self.entry = entry
        var byProtocol: [MailProtocol: TLSContext] = [:]
        for proto in MailProtocol.allCases {
            byProtocol[proto] = try context.offering(applicationProtocol: proto.rawValue)
        }
        self.byProtocol = byProtocol
    }

    /// The context to connect with for a listener of `proto`: its connections offer that protocol by ALPN.
    public func context(for proto: MailProtocol) -> TLSContext {
        byProtocol[proto] ?? context
    }
}

/// Every TLS context of one configuration: a server context per TLS listener, the global backend context and
/// one per `backends:` entry. Built on start and on each reload; a broken certificate or key fails the build.
public struct TLSPolicies: Sendable {
    public let serverContexts: [String: TLSContext]
    public let defaultBackend: BackendPolicy
    let backends: [(config: BackendHostConfig, policy: BackendPolicy)]
    /// Things an operator should hear about at start-up (certificates near expiry, plaintext fallbacks).
    public let warnings: [String]

    /// Certificates expiring within this many days are warned about.
    public static let expiryWarningDays = 30

    init(config: PosternConfig, now: Double = Date().timeIntervalSince1970) throws(RuntimeError) {
        var servers: [String: TLSContext] = [:]
        var warnings: [String] = []
        for listener in config.listeners where listener.tls != .none {
            guard let tls = config.serverTLS(for: listener) else {
                throw RuntimeError("listener \(listener.name): TLS is on but no certificate is configured")
            }
            do {
                let context = try TLSContext.server(
                    TLSPolicies.serverSettings(tls, listener: listener.name, proto: listener.proto))
                servers[listener.name] = context
                warnings += TLSPolicies.expiryWarnings(
                    context.loadedCertificates, owner: "listener \(listener.name)", now: now)
            } catch {
                throw RuntimeError("listener \(listener.name) TLS: \(error.message)")
            }
        }
        serverContexts = servers
        do {
            defaultBackend = try BackendPolicy(
                context: try TLSContext.client(TLSPolicies.clientSettings(config.backendTLS)), serverName: nil,
                mode: nil, allowPlaintextFallback: false, entry: nil)
        } catch {
            throw RuntimeError("backend TLS: \(error.message)")
        }
        warnings += TLSPolicies.expiryWarnings(
            defaultBackend.context.loadedCertificates, owner: "backend_tls", now: now)
        var backends: [(BackendHostConfig, BackendPolicy)] = []
        for entry in config.backends {
            let label = entry.port.map { BackendAddress(host: entry.host, port: $0).description } ?? entry.host
            do {
                let policy = try BackendPolicy(
                    context: try TLSContext.client(TLSPolicies.clientSettings(entry.tls)),
                    serverName: entry.serverName, mode: entry.tlsMode,
                    allowPlaintextFallback: entry.allowPlaintextFallback, entry: label)
                backends.append((entry, policy))
                warnings += TLSPolicies.expiryWarnings(
                    policy.context.loadedCertificates, owner: "backend \(label)", now: now)
            } catch {
                throw RuntimeError("backend \(label) TLS: \(error.message)")
            }
            if entry.allowPlaintextFallback {
                warnings.append(
                    "backend \(label): allow_plaintext_fallback is on: logins go out without TLS when it does not "
                        + "offer STARTTLS")
            }
        }
        self.backends = backends
        self.warnings = warnings
    }

    /// The policy for the backend the map chose: a `backends:` entry for that host and port, one for the host,
    /// or the global settings.
    public func backend(host: String, port: Int) -> BackendPolicy {
        let exact = backends.first { $0.config.port == port && $0.config.matches(host: host, port: port) }
        let anyPort = backends.first { $0.config.port == nil && $0.config.matches(host: host, port: port) }
        return (exact ?? anyPort)?.policy ?? defaultBackend
    }

    /// The policies of the `backends:` entries, in the order of the file.
    public var entryPolicies: [BackendPolicy] { backends.map(\.policy) }

    static func version(_ version: TLSVersion) -> TLSProtocolVersion {
        version == .v1_3 ? .tls1_3 : .tls1_2
    }

    static func serverSettings(_ tls: ServerTLSConfig, listener: String, proto: MailProtocol?) -> ServerTLSSettings {
        var dhPath: String? = nil
        if case .file(let path) = tls.dhParams { dhPath = path }
        var settings = ServerTLSSettings(
            certificateChainPath: tls.certificate, privateKeyPath: tls.key, minVersion: version(tls.minVersion),
            ciphers: tls.ciphers, ciphersuites: tls.ciphersuites, preferServerCiphers: tls.preferServerCiphers,
            dhParamsPath: dhPath, maxVersion: tls.maxVersion.map(version))
        settings.certificates = tls.certificates.map {
            TLSServerCertificate(chainPath: $0.certificate, keyPath: $0.key, serverNames: $0.serverNames)
        }
        settings.groups = tls.groups
        settings.resumption = TLSResumption(rawValue: tls.sessionResumption.rawValue) ?? .tickets
        settings.sessionLifetime = tls.sessionLifetime
        settings.ticketKeyRotation = tls.ticketKeyRotation
        settings.sessionCacheSize = tls.sessionCacheSize
        settings.clientCertificates = TLSClientCertificateMode(rawValue: tls.clientCertificates.rawValue) ?? .none
        settings.clientCAFile = tls.clientCAFile
        settings.sessionIDContext = "postern/\(listener)"
        settings.applicationProtocol = proto?.rawValue
        settings.strictSNI = tls.strictSNI
        return settings
    }

    static func clientSettings(_ tls: BackendTLSConfig) -> ClientTLSSettings {
        var settings = ClientTLSSettings(
            caFile: tls.caFile, verify: tls.verify, minVersion: version(tls.minVersion), ciphers: tls.ciphers,
            maxVersion: tls.maxVersion.map(version))
        settings.caPath = tls.caPath
        settings.ciphersuites = tls.ciphersuites
        settings.groups = tls.groups
        settings.certificateChainPath = tls.certificate
        settings.privateKeyPath = tls.key
        settings.pins = tls.pins.map {
            TLSAPin(
                usage: UInt8($0.usage), selector: UInt8($0.selector), matchingType: UInt8($0.matchingType),
                data: $0.data)
        }
        return settings
    }

    static func expiryWarnings(_ certificates: [TLSCertificateInfo], owner: String, now: Double) -> [String] {
        certificates.compactMap { certificate in
            let days = certificate.daysLeft(now: now)
            guard days < expiryWarningDays else { return nil }
            let when = days < 0 ? "EXPIRED \(-days) days ago" : "expires in \(days) days"
            return "\(owner): certificate \(certificate.path) (\(certificate.subject)) \(when)"
        }
    }
}
