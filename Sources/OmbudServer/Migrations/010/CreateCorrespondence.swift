import Fluent
import SQLKit

/// 010: an appeal's correspondence — messages in and out through a channel (e-mail first), each once by its id — and
/// the channel the answer goes back through.
struct CreateCorrespondence: AsyncMigration {
    func prepare(on db: any Database) async throws {
        try await db.schema("correspondence").id()
            .field("appeal_id", .uuid, .required, .references("appeals", "id"))
            .field("direction", .string, .required)
            .field("channel", .string, .required)
            .field("sender", .string)
            .field("recipient", .string)
            .field("subject", .string)
            .field("text", .string, .required)
            .field("message_id", .string)
            .field("automatic", .bool, .required)
            .field("at", .datetime, .required)
            .unique(on: "message_id")
            .create()
        try await (db as! any SQLDatabase).create(index: "idx_correspondence_appeal").on("correspondence").column("appeal_id").column("at").run()
        try await db.schema("appeals").field("reply_channel", .string).update()
    }

    func revert(on db: any Database) async throws {
        try await db.schema("appeals").deleteField("reply_channel").update()
        try await db.schema("correspondence").delete()
    }
}
