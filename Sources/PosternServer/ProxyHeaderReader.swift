import PosternProtocol

/// The phase before the login dialogue on a listener with `proxy_protocol`: collects the first bytes of a
/// connection from a trusted load balancer until they make a PROXY header (v1 or v2), with its own deadline.
///
/// Bounded: the parser refuses anything that cannot begin a header at once, a v1 line over 107 bytes and a
/// v2 header over `ProxyHeaderParser.maxV2Length` (2048 bytes) before its body arrives, so no more than that
/// is ever kept while waiting.
struct ProxyHeaderReader {
    /// Seconds a trusted connection has to send its whole header (`proxy_protocol`, documented).
    static let timeout: Double = 3

    /// What the bytes so far amount to.
    enum Step: Equatable {
        case needMore
        /// A complete header; `rest` is the client's own data that came with it (plaintext or TLS).
        case header(ProxyHeader, rest: [UInt8])
        case invalid(ProxyHeaderError)
    }

    /// When the header must be complete (session clock).
    let deadline: UInt64
    private let parser = ProxyHeaderParser()
    private var buffer: [UInt8] = []

    init(deadline: UInt64) {
        self.deadline = deadline
    }

    /// Bytes kept while the header is incomplete.
    var buffered: Int { buffer.count }

    mutating func receive(_ bytes: [UInt8]) -> Step {
        buffer += bytes
        switch parser.parse(buffer) {
        case .needMore:
            return .needMore
        case .invalid(let error):
            buffer = []
            return .invalid(error)
        case .header(let header, let consumed):
            let rest = Array(buffer[consumed...])
            buffer = []
            return .header(header, rest: rest)
        }
    }
}
