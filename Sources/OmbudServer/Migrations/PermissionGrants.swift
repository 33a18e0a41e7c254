import Fluent
import OmbudDomain

/// For migrations that add a permission to the catalogue: the stored administrator role gets it (new installations
/// already seed it from `RoleDefinition.shipped`), and reverting takes it from every role again.
enum PermissionGrants {
    static func grantToAdministrators(_ permission: Permission, db: any Database) async throws {
        try await grant(permission, to: [.administrator], db: db)
    }

    /// The stored roles of these shipped keys get the permission (a role an administrator changed keeps the change).
    static func grant(_ permission: Permission, to keys: [RoleKey], db: any Database) async throws {
        for role in try await RoleRecord.query(on: db).filter(\.$key ~~ keys.map(\.rawValue)).all()
        where !role.permissions.contains(permission.rawValue) {
            role.permissions = (role.permissions + [permission.rawValue]).sorted()
            try await role.save(on: db)
        }
    }

    static func revokeEverywhere(_ permission: Permission, db: any Database) async throws {
        for role in try await RoleRecord.query(on: db).all() where role.permissions.contains(permission.rawValue) {
            role.permissions.removeAll { $0 == permission.rawValue }
            try await role.save(on: db)
        }
    }
}
