import Fluent
import OmbudDomain

/// 013, statistics: the permission to read them, for the shipped roles that manage (supervisor, analyst,
/// administrator). No index is added: grouped counts read whole ranges of appeals, and every index costs each
/// insert (a bulk import of a million appeals was slower by a tenth with two more).
struct Statistics: AsyncMigration {
    func prepare(on db: any Database) async throws {
        try await PermissionGrants.grant(.statsRead, to: [.administrator, .supervisor, .analyst], db: db)
    }

    func revert(on db: any Database) async throws {
        try await PermissionGrants.revokeEverywhere(.statsRead, db: db)
    }
}
