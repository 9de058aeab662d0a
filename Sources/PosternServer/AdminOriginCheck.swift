import PosternAdmin

/// Refuses a browser's cross-site POST to the admin API: one whose `Sec-Fetch-Site` says another site, or
/// whose `Origin` names another host than `Host`. The status page's own requests are same-origin; curl and
/// scripts send neither header. This matters on a loopback listener without a token, where a POST needs no
/// token and any web page the operator opens could otherwise send one.
enum AdminOriginCheck {
    static func isCrossSite(_ request: AdminHTTPRequest) -> Bool {
        if let site = request.headers["sec-fetch-site"]?.lowercased(), site != "same-origin", site != "none" {
            return true
        }
        guard let origin = request.headers["origin"] else { return false }
        guard let host = request.headers["host"], let separator = origin.range(of: "://") else { return true }
        return origin[separator.upperBound...].lowercased() != host.lowercased()
    }

    /// The answer to a cross-site POST (403).
    static var refusal: AdminHTTPResponse {
        .json(.forbidden, AdminJSON.encode(["error": "cross-site request refused"]))
    }
}
