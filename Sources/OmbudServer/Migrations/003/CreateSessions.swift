import Fluent
import SQLKit

/// Signed-in browser sessions and the failed-login counters of login throttling.
struct CreateSessions: AsyncMigration {
    func prepare(on db: any Database) async throws {
        try await db.schema("sessions").id()
            .field("token_hash", .string, .required).unique(on: "token_hash")
            .field("user_id", .uuid, .required, .references("users", "id"))
            .field("csrf_token", .string, .required)
            .field("created_at", .datetime, .required)
            .field("last_seen_at", .datetime, .required)
            .field("ended_at", .datetime)
            .field("end_reason", .string)
            .field("address", .string)
            .field("user_agent", .string)
            .create()
        try await (db as! any SQLDatabase).create(index: "idx_sessions_user").on("sessions").column("user_id").run()

        try await db.schema("login_throttle")
            .field("key", .string, .identifier(auto: false))
            .field("failures", .int, .required)
            .field("last_failure_at", .datetime, .required)
            .field("locked_until", .datetime)
            .create()
    }

    func revert(on db: any Database) async throws {
        try await db.schema("login_throttle").delete()
        try await db.schema("sessions").delete()
    }
}
