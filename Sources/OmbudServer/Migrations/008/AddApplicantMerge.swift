import Fluent

/// A card merged into another keeps its row (and its history) and points at the card it became.
struct AddApplicantMerge: AsyncMigration {
    func prepare(on db: any Database) async throws {
        try await db.schema("applicants").field("merged_into_id", .uuid).update()
    }

    func revert(on db: any Database) async throws {
        try await db.schema("applicants").deleteField("merged_into_id").update()
    }
}
