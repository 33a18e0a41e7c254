import Fluent
import Foundation
import OmbudDomain
import Vapor

/// Who is acting: the user behind a bearer token, with what their roles (and the token) allow.
struct Actor: Authenticatable, Sendable {
    let userID: UUID
    let login: String
    let roleKeys: [String]
    let permissions: Set<Permission>
    let unitIDs: [UUID]
    /// False for the portal and Open311 clients: they act in the history under their own name but are no user.
    var isUser = true

    /// The workflow role keys this actor may act as, for the workflow engine.
    var roles: Set<String> { Permission.workflowRoles(permissions) }

    func can(_ permission: Permission) -> Bool { permissions.contains(permission) }

    /// The units whose appeals the actor sees; the portal, Open311 clients and built-in processes act for the whole
    /// installation.
    func scope(_ references: ReferenceCache.Snapshot) -> AccessScope {
        guard isUser else { return .all }
        return AccessScope.of(memberOf: Set(unitIDs), parents: references.unitParents, hqUnits: references.hqUnits, permissions: permissions)
    }

    /// Someone acting from the server's console or a built-in process: named in the history and the audit, no user.
    static func system(_ login: String, permissions: Set<Permission> = [], id: UUID = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))) -> Actor {
        Actor(userID: id, login: login, roleKeys: [], permissions: permissions, unitIDs: [], isUser: false)
    }

    /// What the user's active roles grant, narrowed to the token's permissions when it names some.
    static func resolve(_ user: User, token: APIToken?, roles: [String: Set<Permission>]) throws -> Actor {
        var permissions = user.roles.reduce(into: Set<Permission>()) { $0.formUnion(roles[$1] ?? []) }
        if let limit = token?.permissions { permissions.formIntersection(limit.compactMap(Permission.init(rawValue:))) }
        return Actor(userID: try user.requireID(), login: user.login, roleKeys: user.roles, permissions: permissions, unitIDs: user.unitIDs)
    }
}

/// Refuses the request with 403 unless the actor holds `permission`: routes declare what they need.
struct Require: AsyncMiddleware {
    let permission: Permission
    init(_ permission: Permission) { self.permission = permission }

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        guard try request.actor.can(permission) else {
            throw AppError.forbidden(reason: "this needs the permission \(permission)")
        }
        return try await next.respond(to: request)
    }
}

/// API requests need an actor: a bearer token or a live session cookie. An ended session says so.
struct SignedIn: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        guard request.auth.has(Actor.self) else { throw request.sessionExpired ? AppError.sessionExpired : AppError.unauthorized }
        return try await next.respond(to: request)
    }
}

/// Finds the user of `Authorization: Bearer <token>`. Tokens are stored as SHA-256 digests only.
struct BearerAuthenticator: AsyncBearerAuthenticator {
    func authenticate(bearer: BearerAuthorization, for request: Request) async throws {
        let hash = Tokens.hash(bearer.token)
        if let cached = TokenCache.shared.actor(for: hash, now: request.now) {
            request.auth.login(cached)
            return
        }
        guard let token = try await APIToken.query(on: request.db).filter(\.$tokenHash == hash)
            .filter(\.$revokedAt == nil).with(\.$user).first(), token.user.isActive else { return }
        let roles = try await request.store.references.current(db: request.db).roles
        let actor = try Actor.resolve(token.user, token: token, roles: roles)
        let now = request.now
        if token.lastUsedAt.map({ request.settings.sessionPolicy.needsTouch(lastSeen: $0, now: now) }) ?? true {
            token.lastUsedAt = now
            let user = token.user
            user.lastSeenAt = now
            try await request.store.write { db in
                try await token.save(on: db)
                try await user.save(on: db)
            }
        }
        TokenCache.shared.remember(actor, for: hash, now: now)
        request.auth.login(actor)
    }
}

/// Keeps recently seen tokens for a few seconds so that a burst of requests does not read the token table each time;
/// a revocation takes effect within the TTL. A lock, not an actor: every API request asks, and a lookup is too short
/// to be worth a hop to another executor.
final class TokenCache: @unchecked Sendable {
    static let shared = TokenCache()
    static let ttl: TimeInterval = 10
    private let lock = NSLock()
    private var entries: [String: (Actor, Date)] = [:]

    func actor(for hash: String, now: Date) -> Actor? {
        lock.withLock {
            guard let (actor, at) = entries[hash], now.timeIntervalSince(at) < Self.ttl, now >= at else { return nil }
            return actor
        }
    }

    func remember(_ actor: Actor, for hash: String, now: Date) {
        lock.withLock {
            if entries.count > 10_000 { entries.removeAll() }
            entries[hash] = (actor, now)
        }
    }

    func forget(_ hash: String) { lock.withLock { entries[hash] = nil } }

    /// After a change of roles or users: every cached actor may carry stale permissions.
    func forgetAll() { lock.withLock { entries.removeAll() } }
}

enum Tokens {
    static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).hexString
    }

    static func generate() -> String {
        var bytes = [UInt8](repeating: 0, count: 32)
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255) }
        return "omb_" + Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}

extension Request {
    var actor: Actor {
        get throws {
            guard let actor = auth.get(Actor.self) else { throw AppError.unauthorized }
            return actor
        }
    }
}
