import Fluent
import SQLKit

/// 011: correspondence through social networks and SMS — the thread a message belongs to (a chat, a post's comments),
/// the message's own link on the network, where an answer to it goes, and what the network said to our answers; and an
/// index of appeals by point, for the repeat-contact check.
struct AddChannelThreads: AsyncMigration {
    func prepare(on db: any Database) async throws {
        // One column per statement: SQLite adds one at a time.
        for field in ["thread", "link", "reply_target", "remote_id"] {
            try await db.schema("correspondence").field(.string(field), .string).update()
        }
        try await (db as! any SQLDatabase).create(index: "idx_correspondence_thread").on("correspondence").column("thread").column("at").run()
        // The repeat-contact check looks for open appeals near a point.
        try await (db as! any SQLDatabase).create(index: "idx_appeals_point").on("appeals").column("lat").column("lon").run()
    }

    func revert(on db: any Database) async throws {
        try await (db as! any SQLDatabase).drop(index: "idx_appeals_point").run()
        try await (db as! any SQLDatabase).drop(index: "idx_correspondence_thread").run()
        for field in ["remote_id", "reply_target", "link", "thread"] {
            try await db.schema("correspondence").deleteField(.string(field)).update()
        }
    }
}
