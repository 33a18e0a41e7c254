import Fluent
import SQLKit

/// 016, the operator's day: the PIN printed on a visitor's slip (the portal finds the appeal by code + PIN), history
/// entries written as a catalogue key with parameters (rendered in the reader's language), the address register
/// that gives a typed address its district and point, and the answers to the topics' checklist questions.
struct OperatorDay: AsyncMigration {
    func prepare(on db: any Database) async throws {
        try await db.schema("appeal_pins")
            .field("appeal_id", .uuid, .identifier(auto: false), .references("appeals", "id", onDelete: .cascade))
            .field("pin", .string, .required)
            .field("created_at", .datetime, .required)
            .create()
        // One column per statement: SQLite adds one at a time.
        try await db.schema("history").field("note_key", .string).update()
        try await db.schema("history").field("note_params", .string).update()
        try await db.schema("addresses")
            .field("key", .string, .identifier(auto: false))
            .field("street_key", .string, .required)
            .field("text", .string, .required)
            .field("district", .string)
            .field("lat", .double)
            .field("lon", .double)
            .field("source", .string, .required)
            .field("appeals", .int, .required)
            .field("updated_at", .datetime, .required)
            .create()
        try await (db as! any SQLDatabase).create(index: "idx_addresses_street").on("addresses").column("street_key").run()
        try await db.schema("appeal_answers")
            .field("appeal_id", .uuid, .identifier(auto: false), .references("appeals", "id", onDelete: .cascade))
            .field("lines", .string, .required)
            .field("created_at", .datetime, .required)
            .create()
    }

    func revert(on db: any Database) async throws {
        try await db.schema("appeal_answers").delete()
        try await db.schema("addresses").delete()
        try await db.schema("history").deleteField("note_params").update()
        try await db.schema("history").deleteField("note_key").update()
        try await db.schema("appeal_pins").delete()
    }
}
