import Fluent
import OmbudDomain
import SQLKit

/// The jobs table: work that runs outside requests (reminders, escalations, outgoing mail), claimed by workers.
/// Administrators get `jobs.manage` to see failed jobs and run them again.
struct CreateJobs: AsyncMigration {
    func prepare(on db: any Database) async throws {
        try await db.schema("jobs").id()
            .field("kind", .string, .required)
            .field("payload", .string, .required)
            .field("unique_key", .string)
            .field("status", .string, .required)
            .field("run_at", .datetime, .required)
            .field("attempts", .int, .required)
            .field("max_attempts", .int, .required)
            .field("locked_by", .string)
            .field("locked_at", .datetime)
            .field("last_error", .string)
            .field("created_at", .datetime, .required)
            .field("finished_at", .datetime)
            .unique(on: "unique_key")
            .create()
        try await (db as! any SQLDatabase).create(index: "idx_jobs_due").on("jobs").column("status").column("run_at").run()
        try await PermissionGrants.grantToAdministrators(.jobsManage, db: db)
    }

    func revert(on db: any Database) async throws {
        try await PermissionGrants.revokeEverywhere(.jobsManage, db: db)
        try await db.schema("jobs").delete()
    }
}
