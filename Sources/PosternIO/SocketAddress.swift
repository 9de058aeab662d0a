import Glibc

/// A socket address (IPv4 or IPv6) in a form the socket calls take.
///
/// Kept in a `sockaddr_in6` (28 bytes, room for either family) rather than a `sockaddr_storage` (128): every
/// endpoint holds one for its peer, so the difference is paid per connection.
public struct SocketAddress: Sendable, Equatable, CustomStringConvertible {
    private var raw: sockaddr_in6
    let length: socklen_t

    /// The address as the socket calls take it (`bind`, `connect`).
    var storage: sockaddr_storage {
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { target in
            withUnsafeBytes(of: raw) { target.copyMemory(from: $0) }
        }
        return storage
    }

    /// The numeric host, without brackets.
    public var host: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        var copy = raw
        return withUnsafePointer(to: &copy) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                let ok = getnameinfo(sa, length, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST)
                guard ok == 0 else { return "?" }
                return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            }
        }
    }

    public var port: Int {
        var copy = raw
        return withUnsafePointer(to: &copy) { pointer -> Int in
            if family == AF_INET6 {
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    Int(UInt16(bigEndian: $0.pointee.sin6_port))
                }
            }
            return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                Int(UInt16(bigEndian: $0.pointee.sin_port))
            }
        }
    }

    public var family: Int32 { Int32(raw.sin6_family) }

    /// Whether this is a listening address every connection to which arrives on this same address: a specific
    /// host (not 0.0.0.0 or ::) and a port (not 0). A socket accepted on it has it as its local address.
    public var isSpecific: Bool { port != 0 && host != "0.0.0.0" && host != "::" }

    public var description: String { family == AF_INET6 ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// The first `length` bytes of `storage` (an IPv4 or IPv6 address: at most the 28 of a `sockaddr_in6`).
    init(storage: sockaddr_storage, length: socklen_t) {
        var raw = sockaddr_in6()
        let kept = min(Int(length), MemoryLayout<sockaddr_in6>.size)
        withUnsafeMutableBytes(of: &raw) { target in
            withUnsafeBytes(of: storage) { target.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[..<kept])) }
        }
        self.raw = raw
        self.length = socklen_t(kept)
    }

    /// Two addresses are equal when family, numeric host and port are.
    public static func == (lhs: SocketAddress, rhs: SocketAddress) -> Bool {
        lhs.family == rhs.family && lhs.port == rhs.port && lhs.host == rhs.host
    }

    /// Parses a numeric IPv4 or IPv6 address (no brackets, no scope) with `inet_pton`, without a resolver
    /// call; nil when `host` is not one, or `port` is not in 0...65535.
    public static func numeric(host: String, port: Int) -> SocketAddress? {
        guard (0...65535).contains(port) else { return nil }
        var storage = sockaddr_storage()
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(port).bigEndian
            address.sin_addr = v4
            withUnsafeMutableBytes(of: &storage) { raw in withUnsafeBytes(of: address) { raw.copyMemory(from: $0) } }
            return SocketAddress(storage: storage, length: socklen_t(MemoryLayout<sockaddr_in>.size))
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = UInt16(port).bigEndian
            address.sin6_addr = v6
            withUnsafeMutableBytes(of: &storage) { raw in withUnsafeBytes(of: address) { raw.copyMemory(from: $0) } }
            return SocketAddress(storage: storage, length: socklen_t(MemoryLayout<sockaddr_in6>.size))
        }
        return nil
    }

    /// Resolves a host (name or numeric) and port; blocking, so call it off the event loop.
    public static func resolve(host: String, port: Int, numericOnly: Bool = false) throws(IOError) -> [SocketAddress] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        hints.ai_flags = numericOnly ? AI_NUMERICHOST | AI_NUMERICSERV : AI_NUMERICSERV
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &result)
        guard rc == 0, let first = result else {
            throw IOError(.resolution, "cannot resolve \(host): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(first) }
        var addresses: [SocketAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            var storage = sockaddr_storage()
            withUnsafeMutableBytes(of: &storage) { raw in
                raw.copyMemory(
                    from: UnsafeRawBufferPointer(start: info.pointee.ai_addr, count: Int(info.pointee.ai_addrlen)))
            }
            addresses.append(SocketAddress(storage: storage, length: info.pointee.ai_addrlen))
            cursor = info.pointee.ai_next
        }
        return addresses
    }
}
