import Fluent
import Foundation
import OmbudDomain
import Vapor

/// Browser sessions: started at login, found by the cookie's digest, ended by logout, expiry, a password change or
/// deactivation. Storage functions only; HTTP is in `SessionAuthenticator` and `SessionPages`.
enum Sessions {
    static let cookieName = "ombud_session"

    /// A new session for `user`, in the caller's transaction.
    static func start(user: User, address: String?, userAgent: String?, now: Date, db: any Database) async throws -> (record: BrowserSession, token: String) {
        let token = Tokens.generate()
        let record = BrowserSession()
        record.id = UUID.timeOrdered(at: now)
        record.tokenHash = Tokens.hash(token)
        record.$user.id = try user.requireID()
        record.csrfToken = Tokens.generate()
        record.createdAt = now
        record.lastSeenAt = now
        record.address = address
        record.userAgent = userAgent.map { String($0.prefix(300)) }
        user.lastSeenAt = now
        try await record.create(on: db)
        try await user.save(on: db)
        return (record, token)
    }

    /// The open session of a cookie, with its user; nil when there is none (ended, or never existed).
    static func find(token: String, db: any Database) async throws -> BrowserSession? {
        try await BrowserSession.query(on: db).filter(\.$tokenHash == Tokens.hash(token)).filter(\.$endedAt == nil)
            .with(\.$user).first()
    }

    static func end(_ session: BrowserSession, reason: String, store: Store, now: Date) async throws {
        session.endedAt = now
        session.endReason = reason
        try await store.write { db in try await session.save(on: db) }
    }

    /// Ends every open session of a user (but `except`), in the caller's transaction.
    static func endAll(userID: UUID, except: UUID? = nil, reason: String, now: Date, db: any Database) async throws {
        var query = BrowserSession.query(on: db).filter(\.$user.$id == userID).filter(\.$endedAt == nil)
        if let except { query = query.filter(\.$id != except) }
        try await query.set(\.$endedAt, to: now).set(\.$endReason, to: reason).update()
    }

    static func cookie(_ token: String, secure: Bool) -> HTTPCookies.Value {
        HTTPCookies.Value(string: token, expires: nil, maxAge: nil, path: "/", isSecure: secure, isHTTPOnly: true, sameSite: .lax)
    }

    static func clearedCookie(secure: Bool) -> HTTPCookies.Value {
        HTTPCookies.Value(string: "", expires: Date(timeIntervalSince1970: 0), maxAge: 0, path: "/", isSecure: secure, isHTTPOnly: true, sameSite: .lax)
    }
}

extension Request {
    private struct SessionKey: StorageKey { typealias Value = BrowserSession }
    private struct ExpiredKey: StorageKey { typealias Value = Bool }

    /// The browser session this request was authenticated by, if any (nil for bearer tokens).
    var session: BrowserSession? {
        get { storage[SessionKey.self] }
        set { storage[SessionKey.self] = newValue }
    }

    /// True when the request carried a session cookie that is no longer valid.
    var sessionExpired: Bool {
        get { storage[ExpiredKey.self] ?? false }
        set { storage[ExpiredKey.self] = newValue }
    }

    /// The signed-in user's record: the session already loaded it; a bearer token's user is read.
    func currentUser() async throws -> User {
        if let user = session?.user { return user }
        guard let user = try await User.find(try actor.userID, on: db) else { throw AppError.unauthorized }
        return user
    }

    /// The client's address: the peer, or behind a trusted proxy the last `X-Forwarded-For` entry.
    var clientAddress: String? {
        if settings.trustForwardedFor, let forwarded = headers.first(name: .xForwardedFor)?.split(separator: ",").last {
            return forwarded.trimmed()
        }
        return remoteAddress?.ipAddress
    }

    var isSecure: Bool { settings.secureCookies || headers.first(name: "X-Forwarded-Proto")?.lowercased() == "https" }
}
