import Fluent
import Foundation
import OmbudDomain

/// Keeps at least one active user able to manage roles and users, and gives the console a way back in.
enum Administrators {
    /// Refuses (409) a change, inside its transaction, that leaves no active user holding `Administration.vital`.
    static func requireOne(db: any Database) async throws {
        let roles = try await RoleRecord.query(on: db).filter(\.$isActive == true).all()
        let users = try await User.query(on: db).filter(\.$isActive == true).all()
        let active = Dictionary(roles.map { ($0.key, $0.grants) }, uniquingKeysWith: { a, _ in a })
        guard Administration.someoneAdministers(users.map { .init(isActive: $0.isActive, roles: $0.roles) }, activeRoles: active) else {
            throw AppError.conflict(code: "last-administrator",
                                    reason: "after this change no active user could manage roles and users; the change was not made", field: nil)
        }
    }

    /// `ombud users recover-admin`: the shipped administrator role is made active with every permission again, and
    /// `login` (created if missing) is made active with that role, the password given and no login lock-out.
    /// Works whatever was done through the API or the pages; audited as the console.
    static func recover(login: String, password: String, store: Store, now: Date) async throws -> User {
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
                ?? User(login: try Accounts.validLogin(login), passwordHash: hash, roles: [], fullName: login, unitIDs: [], createdAt: now)
            user.isActive = true
            user.authSource = "local"
            user.passwordHash = hash
            if !user.roles.contains(key) { user.roles = (user.roles + [key]).sorted() }
            try await user.save(on: db)
            try await LoginThrottleRecord.query(on: db).filter(\.$id == "account:\(login)").delete()
            try await Audit.record("user.recover-admin", actorID: nil, actor: "console", entity: "user", entityID: login, address: nil,
                                   details: "administrator role restored with every permission; account active with a new password", at: now, db: db)
            return user
        }
    }
}
