import Fluent
import Foundation
import Vapor

/// Who is acting: the user behind a bearer token.
struct Actor: Authenticatable, Sendable {
    let userID: UUID
    let login: String
    let role: String
    let unitID: UUID?

    var roles: Set<String> { [role] }
}

/// Finds the user of `Authorization: Bearer <token>`. Tokens are stored as SHA-256 digests only.
struct BearerAuthenticator: AsyncBearerAuthenticator {
    func authenticate(bearer: BearerAuthorization, for request: Request) async throws {
        let hash = Tokens.hash(bearer.token)
        if let cached = await TokenCache.shared.actor(for: hash, now: request.now) {
            request.auth.login(cached)
            return
        }
        guard let token = try await APIToken.query(on: request.db).filter(\.$tokenHash == hash)
            .filter(\.$revokedAt == nil).with(\.$user).first(), token.user.isActive else { return }
        let actor = Actor(userID: try token.user.requireID(), login: token.user.login, role: token.user.role, unitID: token.user.unitID)
        let now = request.now
        if token.lastUsedAt.map({ now.timeIntervalSince($0) > 60 }) ?? true {
            token.lastUsedAt = now
            try await request.store.write { db in try await token.save(on: db) }
        }
        await TokenCache.shared.remember(actor, for: hash, now: now)
        request.auth.login(actor)
    }
}

/// Keeps recently seen tokens for a few seconds so that a burst of requests does not read the token table each time;
/// a revocation takes effect within the TTL.
actor TokenCache {
    static let shared = TokenCache()
    static let ttl: TimeInterval = 10
    private var entries: [String: (Actor, Date)] = [:]

    func actor(for hash: String, now: Date) -> Actor? {
        guard let (actor, at) = entries[hash], now.timeIntervalSince(at) < Self.ttl, now >= at else { return nil }
        return actor
    }

    func remember(_ actor: Actor, for hash: String, now: Date) {
        if entries.count > 10_000 { entries.removeAll() }
        entries[hash] = (actor, now)
    }

    func forget(_ hash: String) { entries[hash] = nil }
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
