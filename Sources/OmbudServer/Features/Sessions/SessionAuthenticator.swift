import Fluent
import Foundation
import OmbudDomain
import Vapor

/// Signs a request in by its session cookie, unless a bearer token already did. A state-changing request made with a
/// cookie must carry the session's CSRF token (header `X-CSRF-Token` or form field `_csrf`); without it the request is
/// refused before any handler runs, so nothing changes.
struct SessionAuthenticator: AsyncMiddleware {
    func respond(to req: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        guard !req.auth.has(Actor.self), let token = req.cookies[Sessions.cookieName]?.string, !token.isEmpty else {
            return try await next.respond(to: req)
        }
        let now = req.now
        guard let session = try await Sessions.find(token: token, db: req.db) else {
            req.sessionExpired = true
            return try await next.respond(to: req)
        }
        let policy = req.settings.sessionPolicy
        guard session.user.isActive, !policy.isExpired(createdAt: session.createdAt, lastSeen: session.lastSeenAt, now: now) else {
            try await Sessions.end(session, reason: session.user.isActive ? "expired" : "deactivated", store: req.store, now: now)
            req.sessionExpired = true
            return try await next.respond(to: req)
        }
        if ![.GET, .HEAD, .OPTIONS].contains(req.method) {
            let sent = try await Self.csrfToken(of: req)
            guard let sent, SessionPolicy.constantTimeEqual(sent, session.csrfToken) else { throw AppError.csrf }
        }
        if policy.needsTouch(lastSeen: session.lastSeenAt, now: now) {
            session.lastSeenAt = now
            let user = session.user
            user.lastSeenAt = now
            try await req.store.write { db in
                try await session.save(on: db)
                try await user.save(on: db)
            }
        }
        let roles = try await req.store.references.current(db: req.db).roles
        req.auth.login(try Actor.resolve(session.user, token: nil, roles: roles))
        req.session = session
        return try await next.respond(to: req)
    }

    /// The token from the header, or from a form's `_csrf` field (the body is collected for that, within its limit).
    static func csrfToken(of req: Request) async throws -> String? {
        if let header = req.headers.first(name: "X-CSRF-Token") { return header }
        guard let type = req.headers.contentType, type == .urlEncodedForm || type == .formData else { return nil }
        if req.body.data == nil {
            let limit = type == .formData ? req.settings.formBodyLimit : 1024 * 1024
            _ = try await req.body.collect(max: limit).get()
        }
        return try? req.content.get(String.self, at: "_csrf")
    }
}
