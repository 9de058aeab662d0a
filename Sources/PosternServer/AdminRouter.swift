import PosternAdmin
import PosternMap

/// Turns a parsed admin request into an `AdminRoute`, or the error answer: an unknown path (404), a method
/// the path does not take (405 with `Allow`), a bad or unknown parameter (400). Pure: no server state.
enum AdminRouter {
    static func route(_ request: AdminHTTPRequest) -> Result<AdminRoute, AdminRefusal> {
        let reads: Set<AdminHTTPMethod> = [.get, .head]
        switch request.path {
        case "/healthz": return only(reads, request) { .success(.healthz) }
        case "/readyz": return only(reads, request) { .success(.readyz) }
        case "/health": return only(reads, request) { .success(.health) }
        case "/metrics": return only(reads, request) { .success(.metrics) }
        case "/sessions":
            return only(reads, request) { filter(request, allowed: ["user", "backend"]).map(AdminRoute.sessions) }
        case "/sessions/kick":
            return only([.post], request) {
                filter(request, allowed: ["user", "backend", "id"]).flatMap { filter in
                    filter.isEmpty ? .failure(badRequest("give user, backend or id")) : .success(.kick(filter))
                }
            }
        case "/backends": return only(reads, request) { .success(.backends) }
        case "/", "/status": return only(reads, request) { .success(.statusPage) }
        case "/status.json": return only(reads, request) { .success(.status) }
        case "/backends/drain":
            return only([.post], request) { backend(request).map(AdminRoute.drain) }
        case "/backends/undrain":
            return only([.post], request) { backend(request).map(AdminRoute.undrain) }
        default:
            return .failure(AdminRefusal(.notFound, "no such endpoint"))
        }
    }

    /// A JSON 400.
    static func badRequest(_ message: String) -> AdminRefusal {
        AdminRefusal(.badRequest, message)
    }

    private static func only(
        _ methods: Set<AdminHTTPMethod>, _ request: AdminHTTPRequest,
        _ body: () -> Result<AdminRoute, AdminRefusal>
    ) -> Result<AdminRoute, AdminRefusal> {
        guard methods.contains(request.method) else {
            var response = AdminHTTPResponse.json(
                .methodNotAllowed, AdminJSON.encode(["error": "method not allowed"]))
            let allow = AdminHTTPMethod.allCases.filter(methods.contains).map(\.rawValue).joined(separator: ", ")
            response.headers.append((name: "Allow", value: allow))
            return .failure(AdminRefusal(response))
        }
        return body()
    }

    /// The query parameters, and for POST the form body's too; each name at most once, only known names.
    private static func parameters(_ request: AdminHTTPRequest, allowed: Set<String>) -> Result<
        [String: String], AdminRefusal
    > {
        var items = request.query
        if request.method == .post {
            do {
                items += try request.formParameters()
            } catch {
                return .failure(badRequest("the body is not application/x-www-form-urlencoded"))
            }
        }
        var values: [String: String] = [:]
        for item in items {
            guard allowed.contains(item.name) else {
                return .failure(badRequest("unknown parameter '\(item.name)'"))
            }
            guard values[item.name] == nil else { return .failure(badRequest("parameter '\(item.name)' given twice")) }
            guard !item.value.isEmpty else { return .failure(badRequest("parameter '\(item.name)' is empty")) }
            values[item.name] = item.value
        }
        return .success(values)
    }

    private static func filter(_ request: AdminHTTPRequest, allowed: Set<String>) -> Result<SessionFilter, AdminRefusal>
    {
        parameters(request, allowed: allowed).map { values in
            SessionFilter(user: values["user"], backend: values["backend"], id: values["id"])
        }
    }

    /// `backend=host:port`, normalised as the dialler names backends (host lowercased, IPv6 in brackets).
    private static func backend(_ request: AdminHTTPRequest) -> Result<String, AdminRefusal> {
        parameters(request, allowed: ["backend"]).flatMap { values in
            guard let text = values["backend"] else { return .failure(badRequest("give backend=host:port")) }
            guard let address = BackendAddress.parse(text), let port = address.port else {
                return .failure(badRequest("backend must be host:port"))
            }
            return .success(BackendAddress(host: address.host.lowercased(), port: port).description)
        }
    }
}
