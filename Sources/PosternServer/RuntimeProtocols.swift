import PosternConfig
import PosternProtocol

/// The per-protocol pieces of a listener's configuration, as the protocol machines take them.
extension Runtime {
    /// The protocol module's name for a mechanism of the `sasl:` list.
    static func mechanism(_ name: SASLMechanismName) -> SASLMechanism {
        switch name {
        case .plain: return .plain
        case .login: return .login
        case .xoauth2: return .xoauth2
        case .oauthbearer: return .oauthbearer
        }
    }

    /// What a ManageSieve listener announces: its `managesieve:` settings over the built-in defaults.
    static func sieveCapabilities(_ listener: ListenerConfig) -> SieveCapabilities {
        let settings = listener.manageSieve ?? ManageSieveSettings()
        let defaults = SieveCapabilities()
        return SieveCapabilities(sieve: settings.sieve ?? defaults.sieve, notify: settings.notify ?? defaults.notify)
    }

    /// How the relay reads a listener's protocol and says its farewell.
    static func dialect(_ proto: MailProtocol) -> MailDialect {
        switch proto {
        case .imap: return .imap
        case .pop3: return .pop3
        case .managesieve: return .managesieve
        }
    }

    /// What a client of this listener is told before the connection is closed for lack of room.
    static func refusal(for proto: MailProtocol) -> [UInt8] {
        switch proto {
        case .imap: return Array("* BYE Too many connections, try again later.\r\n".utf8)
        case .pop3: return Array("-ERR [SYS/TEMP] Too many connections, try again later.\r\n".utf8)
        case .managesieve: return Array("BYE (TRYLATER) \"Too many connections, try again later.\"\r\n".utf8)
        }
    }
}
