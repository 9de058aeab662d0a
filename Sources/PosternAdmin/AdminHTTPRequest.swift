/// One parsed admin request: method, target (path and decoded query), version, headers and body.
public struct AdminHTTPRequest: Sendable, Equatable {
    public var method: AdminHTTPMethod
    /// The target as sent, e.g. `/sessions?user=alice%40example.org`.
    public var target: String
    /// The path part of the target, not decoded (the admin paths are plain ASCII).
    public var path: String
    /// The query parameters, percent-decoded, in order.
    public var query: [AdminQueryItem]
    public var version: AdminHTTPVersion
    public var headers: AdminHTTPHeaders
    public var body: [UInt8]

    public init(
        method: AdminHTTPMethod, target: String, path: String, query: [AdminQueryItem], version: AdminHTTPVersion,
        headers: AdminHTTPHeaders, body: [UInt8]
    ) {
        self.method = method
        self.target = target
        self.path = path
        self.query = query
        self.version = version
        self.headers = headers
        self.body = body
    }

    /// The first query parameter called `name`, or nil.
    public func queryValue(_ name: String) -> String? {
        query.first { $0.name == name }?.value
    }

    /// The token of a single `Authorization: Bearer TOKEN` header (scheme in any case, RFC 6750 token68
    /// syntax); nil when there is none, more than one, another scheme, or a malformed token.
    public var bearerToken: String? {
        let values = headers.values("authorization")
        guard values.count == 1, let value = values.first else { return nil }
        let bytes = Array(value.utf8)
        guard bytes.count > 7, String(decoding: bytes[0..<6], as: UTF8.self).lowercased() == "bearer",
            bytes[6] == UInt8(ascii: " ")
        else { return nil }
        let token = bytes[7...].drop { $0 == UInt8(ascii: " ") }
        guard !token.isEmpty else { return nil }
        let body = token.prefix { $0 != UInt8(ascii: "=") }
        let padding = token.dropFirst(body.count)
        guard !body.isEmpty, body.allSatisfy(Self.isToken68Byte), padding.allSatisfy({ $0 == UInt8(ascii: "=") })
        else { return nil }
        return String(decoding: token, as: UTF8.self)
    }

    /// The body as `application/x-www-form-urlencoded` parameters (e.g. `user=alice` for a kick).
    public func formParameters() throws(AdminHTTPError) -> [AdminQueryItem] {
        try AdminQueryItem.parse(body)
    }

    private static func isToken68Byte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"), UInt8(ascii: "+"), UInt8(ascii: "/"):
            true
        default: false
        }
    }
}
