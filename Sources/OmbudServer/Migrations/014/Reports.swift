import Fluent
import SQLKit

/// 014, saved reports: a statistics question with its chart, sharing and mail schedule, kept as JSON (read whole,
/// never queried by its parts), owned by the user who made it. `next_run_at` is when its mail is next due.
struct SavedReports: AsyncMigration {
    func prepare(on db: any Database) async throws {
        try await db.schema("reports")
            .id()
            .field("owner_id", .uuid, .required, .references("users", "id"))
            .field("name", .string, .required)
            .field("definition", .string, .required)
            .field("next_run_at", .datetime)
            .field("last_run_at", .datetime)
            .field("created_at", .datetime, .required)
            .field("updated_at", .datetime, .required)
            .field("version", .int, .required, .sql(.default(0)))
            .create()
        try await (db as! any SQLDatabase).create(index: "idx_reports_next_run").on("reports").column("next_run_at").run()
    }

    func revert(on db: any Database) async throws {
        try await db.schema("reports").delete()
    }
}
