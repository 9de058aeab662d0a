import PosternConfig
import PosternMap
import PosternProtocol
import PosternTLS

/// Everything a session needs that comes from the configuration, built once per (re)load and shared
/// read-only by the sessions accepted while it is current.
public final class Runtime: Sendable {
    public let config: PosternConfig
    /// The client-facing TLS context, when a listener uses TLS.
    public let serverTLS: TLSContext?
    /// The context for TLS towards backends.
    public let backendTLS: TLSContext
    public let map: any UserMap
    public let generation: Int

    /// Builds contexts and maps; throws with a message naming what failed.
    public init(config: PosternConfig, generation: Int) throws(RuntimeError) {
        self.config = config
        self.generation = generation
        if let tls = config.tls {
            do {
                serverTLS = try TLSContext.server(Runtime.serverSettings(tls))
            } catch {
                throw RuntimeError("client-facing TLS: \(error.message)")
            }
        } else {
            serverTLS = nil
        }
        do {
            backendTLS = try TLSContext.client(
                ClientTLSSettings(
                    caFile: config.backendTLS.caFile, verify: config.backendTLS.verify,
                    minVersion: config.backendTLS.minVersion == .v1_3 ? .tls1_3 : .tls1_2,
                    ciphers: config.backendTLS.ciphers))
        } catch {
            throw RuntimeError("backend TLS: \(error.message)")
        }
        map = try Runtime.buildMap(config.map)
    }

    static func serverSettings(_ tls: ServerTLSConfig) -> ServerTLSSettings {
        var dhPath: String? = nil
        if case .file(let path) = tls.dhParams { dhPath = path }
        return ServerTLSSettings(
            certificateChainPath: tls.certificate, privateKeyPath: tls.key,
            minVersion: tls.minVersion == .v1_3 ? .tls1_3 : .tls1_2, ciphers: tls.ciphers,
            ciphersuites: tls.ciphersuites, preferServerCiphers: tls.preferServerCiphers, dhParamsPath: dhPath)
    }

    /// The map chain the config describes: the file (if any), then the default server.
    public static func buildMap(_ config: MapConfig) throws(RuntimeError) -> any UserMap {
        var sources: [any UserMap] = []
        if let file = config.file {
            do {
                sources.append(try FileMap(path: file))
            } catch {
                throw RuntimeError("map: \(error)")
            }
        }
        var defaults: [BackendAddress] = []
        if let text = config.defaultServer {
            guard let address = BackendAddress.parse(text) else {
                throw RuntimeError("map.default: bad server '\(text)'")
            }
            defaults.append(address)
        }
        return ChainedMap(sources: sources, defaultServers: defaults)
    }

    /// A fresh front-end state machine for a listener's new connection.
    func makeFrontEnd(for listener: ListenerConfig, tlsActive: Bool) -> any FrontEndMachine {
        let options = FrontEndOptions(
            starttlsOffered: listener.tls == .starttls || listener.tls == .starttlsRequired,
            tlsActive: tlsActive,
            tlsRequiredForLogin: listener.tls == .starttlsRequired || listener.tls == .implicit,
            maxLine: config.limits.maxLine,
            maxLoginAttempts: config.limits.loginAttempts,
            mechanisms: listener.sasl.map(Runtime.mechanism))
        switch listener.proto {
        case .imap:
            return IMAPFrontEnd(options: options)
        case .pop3:
            return POP3FrontEnd(options: options)
        case .managesieve:
            return SieveFrontEnd(options: options, capabilities: Runtime.sieveCapabilities(listener))
        }
    }

    /// A back-end login state machine for a listener's backend.
    func makeBackEndLogin(for listener: ListenerConfig, credentials: Credentials) -> any BackEndLoginMachine {
        let options = BackEndOptions(useStartTLS: listener.backend.tls == .starttls)
        switch listener.proto {
        case .imap:
            return IMAPBackEndLogin(credentials: credentials, options: options)
        case .pop3:
            return POP3BackEndLogin(credentials: credentials, options: options)
        case .managesieve:
            return SieveBackEndLogin(credentials: credentials, options: options)
        }
    }
}

/// Why a configuration could not be put into service.
public struct RuntimeError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
