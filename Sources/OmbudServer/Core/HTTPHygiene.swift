import Vapor

/// Adds Referrer-Policy (a portal status page's secret link never leaves in a Referer), X-Content-Type-Options and,
/// for an https public address, HSTS to every response. First in `app.middleware`, so it also covers errors and 405s.
struct SecurityHeadersMiddleware: AsyncMiddleware {
    let hsts: Bool

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let response = try await next.respond(to: request)
        response.headers.replaceOrAdd(name: "Referrer-Policy", value: "same-origin")
        response.headers.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
        if self.hsts {
            response.headers.replaceOrAdd(name: "Strict-Transport-Security", value: "max-age=31536000")
        }
        return response
    }
}

/// 405 with `Allow` instead of Vapor's 404 when no route matched the method but some route serves the path, and for
/// methods no route uses at all (TRACE, CONNECT, OPTIONS, ...), whatever the path.
///
/// DefaultResponder sets `request.route` before it runs the middleware chain for a matched route and leaves it nil on
/// the not-found chain (DefaultResponder.swift:53-58), so `request.route == nil` here means "Vapor would answer 404".
final class MethodNotAllowedMiddleware: AsyncMiddleware, @unchecked Sendable {
    // Immutable after init; TrieRouter.route(path:parameters:) only reads.
    private let router: TrieRouter<Bool>
    private let methods: [HTTPMethod]

    /// Build after all routes are registered (routes added later are not seen).
    init(routes: Routes) {
        let router = TrieRouter(Bool.self, options: routes.caseInsensitive ? [.caseInsensitive] : [])
        var methods: [HTTPMethod] = []
        for route in routes.all {
            if !methods.contains(route.method) { methods.append(route.method) }
            // Same keying as DefaultResponder.swift:33-42: the method, then the non-empty path components.
            let path = route.path.filter { if case .constant("") = $0 { return false } else { return true } }
            router.register(true, at: [.constant(route.method.rawValue)] + path)
        }
        if methods.contains(.GET), !methods.contains(.HEAD) { methods.append(.HEAD) }  // HEAD falls back to GET
        self.router = router
        self.methods = methods
    }

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        guard request.route == nil else { return try await next.respond(to: request) }
        let components = request.url.path.split(separator: "/").map(String.init)
        let allowed = self.methods.filter { method in
            var parameters = Parameters()
            let lookup = method == .HEAD ? HTTPMethod.GET : method
            return self.router.route(path: [lookup.rawValue] + components, parameters: &parameters) != nil
        }
        let unknownMethod = !self.methods.contains(request.method)
        guard !allowed.isEmpty || unknownMethod else { return try await next.respond(to: request) }  // a real 404
        // Returned, not thrown: APIErrorMiddleware would drop an AbortError's headers.
        let response = Response(status: .methodNotAllowed)
        response.headers.replaceOrAdd(name: .allow, value: (allowed.isEmpty ? self.methods : allowed).map(\.rawValue).joined(separator: ", "))
        try response.content.encode(APIErrorMiddleware.Body(error: "method-not-allowed", reason: "\(request.method.rawValue) is not allowed here",
                                                            allowed: allowed.map(\.rawValue)), as: .json)
        return response
    }
}
