import Fluent
import SQLKit

/// 009: the citizens' portal and Open311 — what of an appeal is public and how its author finds it again, ratings of
/// answers, e-mail subscriptions to an area, Open311 clients and services, topic checklists, and the public rate limit.
struct CreatePortal: AsyncMigration {
    func prepare(on db: any Database) async throws {
        try await db.schema("public_appeals")
            .field("id", .uuid, .identifier(auto: false), .references("appeals", "id"))
            .field("listed", .bool, .required)
            .field("text_public", .bool, .required)
            .field("status_token_hash", .string)
            .field("request_token", .string)
            .field("service_code", .string)
            .field("client_id", .uuid)
            .field("lat", .double)
            .field("lon", .double)
            .field("district", .string)
            .field("address_id", .string)
            .field("media_url", .string)
            .field("created_at", .datetime, .required)
            .unique(on: "status_token_hash")
            .unique(on: "request_token")
            .create()
        try await db.schema("appeal_ratings").id()
            .field("appeal_id", .uuid, .required, .references("appeals", "id"))
            .field("score", .int, .required)
            .field("comment", .string)
            .field("solved", .bool, .required)
            .field("source", .string, .required)
            .field("at", .datetime, .required)
            .create()
        try await db.schema("area_subscriptions").id()
            .field("email", .string, .required)
            .field("language", .string, .required)
            .field("district", .string)
            .field("lat", .double)
            .field("lon", .double)
            .field("radius", .double)
            .field("token", .string, .required)
            .field("confirmed_at", .datetime)
            .field("last_sent_at", .datetime)
            .field("created_at", .datetime, .required)
            .unique(on: "token")
            .create()
        try await db.schema("open311_clients").id()
            .field("name", .string, .required)
            .field("key_hash", .string, .required)
            .field("key_prefix", .string, .required)
            .field("unit_id", .uuid, .references("org_units", "id"))
            .field("created_at", .datetime, .required)
            .field("revoked_at", .datetime)
            .unique(on: "key_hash")
            .create()
        try await db.schema("open311_services").id()
            .field("code", .string, .required)
            .field("topic_code", .string, .required)
            .field("name", .string, .required)
            .field("description", .string)
            .field("group_name", .string)
            .field("keywords", .string)
            .field("position", .int, .required)
            .field("active", .bool, .required)
            .field("updated_at", .datetime, .required)
            .unique(on: "code")
            .create()
        try await db.schema("public_events").id()
            .field("key", .string, .required)
            .field("action", .string, .required)
            .field("at", .datetime, .required)
            .create()
        try await db.schema("topics").field("checklist", .string).update()
        let sql = db as! any SQLDatabase
        for (name, table, columns) in [("idx_public_appeals_listed", "public_appeals", ["listed", "created_at"]),
                                       ("idx_ratings_appeal", "appeal_ratings", ["appeal_id", "at"]),
                                       ("idx_public_events", "public_events", ["key", "action", "at"]),
                                       ("idx_history_at", "history", ["at"])] {
            var builder = sql.create(index: name).on(table)
            for column in columns { builder = builder.column(column) }
            try await builder.run()
        }
    }

    func revert(on db: any Database) async throws {
        try await (db as! any SQLDatabase).drop(index: "idx_history_at").run()
        try await db.schema("topics").deleteField("checklist").update()
        for table in ["public_events", "open311_services", "open311_clients", "area_subscriptions", "appeal_ratings", "public_appeals"] {
            try await db.schema(table).delete()
        }
    }
}
