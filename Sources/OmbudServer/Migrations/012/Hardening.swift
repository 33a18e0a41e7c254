import Fluent
import SQLKit

/// 012, hardening. An integer version on tasks and promises. The deadline sweep updates a row only if nobody changed it since it
/// was read; comparing `updated_at` for that failed on SQLite, which reads dates back rounded to microseconds, so
/// a row was never updated and the sweep stalled on it. Every change of a task or a promise now adds one to it.
struct Hardening: AsyncMigration {
    func prepare(on db: any Database) async throws {
        for table in ["tasks", "promises"] {
            try await db.schema(table).field("version", .int, .required, .sql(.default(0))).update()
        }
        // The secret links that portal mail carried (only their SHA-256).
        try await db.schema("portal_links")
            .field("token_hash", .string, .identifier(auto: false))
            .field("appeal_id", .uuid, .required, .references("appeals", "id"))
            .field("created_at", .datetime, .required)
            .create()
    }

    func revert(on db: any Database) async throws {
        try await db.schema("portal_links").delete()
        for table in ["promises", "tasks"] {
            try await db.schema(table).deleteField("version").update()
        }
    }
}
