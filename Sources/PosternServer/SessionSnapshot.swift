import Foundation
import PosternTLS

/// One session as `GET /sessions` lists it: who, where from, through which listener to which backend, since
/// when, how many bytes each way, and TLS on each side (null without). Never a credential.
struct SessionSnapshot: Sendable, Equatable, Encodable {
    /// A TLS session's version and cipher, and the protocol agreed by ALPN (null without).
    struct TLS: Sendable, Equatable, Encodable {
        let version: String
        let cipher: String
        let alpn: String?

        init(_ info: TLSSessionInfo) {
            version = info.version
            cipher = info.cipher
            alpn = info.alpn
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(version, forKey: .version)
            try container.encode(cipher, forKey: .cipher)
            try container.encode(alpn, forKey: .alpn)
        }

        enum CodingKeys: String, CodingKey { case version, cipher, alpn }
    }

    let id: String
    /// The login name the map was asked about; nil before a login was tried.
    let user: String?
    let client: String
    let listener: String
    let proto: String
    /// `host:port` of the backend (tried now or relayed to); nil before one was chosen.
    let backend: String?
    /// `login` (the login dialogue), `connecting` (a backend is dialled for a login), `relayed`.
    let state: String
    /// When the connection was accepted (wall clock).
    let started: Date
    let clientIn: UInt64
    let clientOut: UInt64
    let backendIn: UInt64
    let backendOut: UInt64
    let clientTLS: TLS?
    let backendTLS: TLS?

    private enum CodingKeys: String, CodingKey {
        case id, user, client, listener, proto = "protocol", backend, state, started
        case clientIn = "client_in", clientOut = "client_out", backendIn = "backend_in", backendOut = "backend_out"
        case clientTLS = "client_tls", backendTLS = "backend_tls"
    }

    /// Every key is written, an absent value as null.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(user, forKey: .user)
        try container.encode(client, forKey: .client)
        try container.encode(listener, forKey: .listener)
        try container.encode(proto, forKey: .proto)
        try container.encode(backend, forKey: .backend)
        try container.encode(state, forKey: .state)
        try container.encode(AdminJSON.timestamp(started), forKey: .started)
        try container.encode(clientIn, forKey: .clientIn)
        try container.encode(clientOut, forKey: .clientOut)
        try container.encode(backendIn, forKey: .backendIn)
        try container.encode(backendOut, forKey: .backendOut)
        try container.encode(clientTLS, forKey: .clientTLS)
        try container.encode(backendTLS, forKey: .backendTLS)
    }
}
