import Fluent
import Foundation
import OmbudDomain

/// Keeps at least one active user able to manage roles and users, and gives the console a way back in.
enum Administrators {
    /// Whether some active user now holds `Administration.vital`.
    static func someone(db: any Database) async throws -> Bool {
        let roles = try await RoleRecord.query(on: db).filter(\.$isActive == true).all()
        let users = try await User.query(on: db).filter(\.$isActive == true).all()
        let active = Dictionary(roles.map { ($0.key, $0.grants) }, uniquingKeysWith: { a, _ in a })
        return Administration.someoneAdministers(users.map { .init(isActive: $0.isActive, roles: $0.roles) }, activeRoles: active)
    }

    /// Makes `change` inside the caller's transaction and refuses it (409, nothing changed) when it takes the last
    /// administrator away; an installation already without one (recovery pending) may still change other things.
    static func keepingOne<T>(db: any Database, _ change: () async throws -> T) async throws -> T {
        let before = try await someone(db: db)
        let result = try await change()
        if before, try await !someone(db: db) {
            throw AppError.conflict(code: "last-administrator",
                                    reason: "after this change no active user could manage roles and users; the change was not made", field: nil)
        }
        return result
    }

    /// `ombud users recover-admin`: the shipped administrator role is made active with every permission again, and
    /// `login` (created if missing) is made active with that role, the password given and no login lock-out.
    /// Works whatever was done through the API or the pages; audited as the console.
    static func recover(login raw: String, password: String, store: Store, now: Date) async throws -> User {
        let login = try Accounts.validLogin(raw)
        do throws(ValidationError) { try PasswordRules.validate(password, login: login) } catch { throw error.appError }
        let hash = try await Accounts.hashPassword(password)
        let key = RoleKey.administrator.rawValue
        return try await store.writeReferences { db in
            let shipped = RoleDefinition.shipped.first { $0.key == key } ?? RoleDefinition(key: key, name: "Administrator", permissions: Set(Permission.catalogue))
            let role = try await RoleRecord.query(on: db).filter(\.$key == key).first() ?? RoleRecord(shipped, builtin: true, now: now)
            role.isActive = true
            role.permissions = Permission.catalogue.map(\.rawValue).sorted()
            role.updatedAt = now
            try await role.save(on: db)
            let user = try await User.query(on: db).filter(\.$login == login).first()
                ?? User(login: login, passwordHash: hash, roles: [], fullName: login, unitIDs: [], createdAt: now)
            user.isActive = true
            user.authSource = "local"
            user.passwordHash = hash
            if !user.roles.contains(key) { user.roles = (user.roles + [key]).sorted() }
            try await user.save(on: db)
            try await LoginThrottleRecord.query(on: db).filter(\.$id ~~ LoginThrottle.counters(login: login, address: nil).map(\.key)).delete()
            try await Audit.record("user.recover-admin", actorID: nil, actor: "console", entity: "user", entityID: login, address: nil,
                                   details: "administrator role restored with every permission; account active with a new password", at: now, db: db)
            return user
        }
    }
}
