import Glibc

/// Why a connection or a socket call failed, typed so that logs and metrics can tell the causes apart.
public struct IOError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The class of failure.
    public enum Kind: String, Sendable, Equatable {
        /// The peer reset or hung up (ECONNRESET, EPIPE, EPOLLHUP).
        case reset
        /// Connecting was refused (ECONNREFUSED).
        case refused
        /// No route (EHOSTUNREACH, ENETUNREACH).
        case unreachable
        /// A deadline passed (ETIMEDOUT or one of ours).
        case timeout
        /// A name did not resolve.
        case resolution
        /// The TLS handshake failed; `detail` carries OpenSSL's reason.
        case tlsHandshake = "tls-handshake"
        /// TLS failed after the handshake.
        case tls
        /// This process ran out of something (EMFILE, ENFILE, ENOBUFS, ENOMEM): not the peer's fault.
        case localResource = "local-resource"
        /// More output was queued than the connection's cap allows.
        case outputOverflow = "output-overflow"
        /// Anything else.
        case other
    }

    public var kind: Kind
    /// errno when the failure came from a system call, else 0.
    public var code: Int32
    /// Human-readable text (errno's text, OpenSSL's reason).
    public var message: String
    /// For TLS failures: OpenSSL's reason (`TLSError.reason`, e.g. `no shared cipher`), when it gave one.
    public var tlsReason: String?

    public init(_ kind: Kind, _ message: String, code: Int32 = 0, tlsReason: String? = nil) {
        self.kind = kind
        self.message = message
        self.code = code
        self.tlsReason = tlsReason
    }

    /// An error of unknown class (kept for call sites that only have a text).
    public init(_ message: String, code: Int32 = 0) {
        self.init(code == 0 ? .other : IOError.kind(forErrno: code), message, code: code)
    }

    /// An error from a system call, classified by errno.
    public static func errno(_ what: String, _ code: Int32 = Glibc.errno) -> IOError {
        IOError(kind(forErrno: code), "\(what): \(String(cString: strerror(code)))", code: code)
    }

    /// The class of an errno value.
    public static func kind(forErrno code: Int32) -> Kind {
        switch code {
        case ECONNRESET, EPIPE, ECONNABORTED: return .reset
        case ECONNREFUSED: return .refused
        case EHOSTUNREACH, ENETUNREACH, EADDRNOTAVAIL: return .unreachable
        case ETIMEDOUT: return .timeout
        case EMFILE, ENFILE, ENOBUFS, ENOMEM: return .localResource
        default: return .other
        }
    }

    /// True when the failure is this process's, not the peer's: it must not count against a backend.
    public var isLocal: Bool { kind == .localResource }

    public var description: String { message }
}
