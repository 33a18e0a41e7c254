import Fluent
import OmbudDomain
import SQLKit

/// 013, statistics. The permission to read them, for the shipped roles that manage (supervisor, analyst,
/// administrator); and the indexes the grouped counts read by.
struct Statistics: AsyncMigration {
    static let indexes: [(String, String, [String])] = [
        ("idx_appeals_district", "appeals", ["district"]),
        ("idx_appeals_kind", "appeals", ["kind"]),
    ]

    func prepare(on db: any Database) async throws {
        try await PermissionGrants.grant(.statsRead, to: [.administrator, .supervisor, .analyst], db: db)
        let sql = db as! any SQLDatabase
        for (name, table, columns) in Self.indexes {
            var builder = sql.create(index: name).on(table)
            for column in columns { builder = builder.column(column) }
            try await builder.run()
        }
    }

    func revert(on db: any Database) async throws {
        let sql = db as! any SQLDatabase
        for (name, _, _) in Self.indexes { try await sql.drop(index: name).ifExists().run() }
        try await PermissionGrants.revokeEverywhere(.statsRead, db: db)
    }
}
