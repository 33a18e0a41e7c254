import Fluent

/// One row per submitted form that must act once (the intake form): its token, its author and what it created.
struct CreateFormSubmissions: AsyncMigration {
    func prepare(on db: any Database) async throws {
        try await db.schema("form_submissions")
            .field("token", .uuid, .identifier(auto: false))
            .field("user_id", .uuid, .required)
            .field("appeal_id", .uuid)
            .field("created_at", .datetime, .required)
            .create()
    }

    func revert(on db: any Database) async throws {
        try await db.schema("form_submissions").delete()
    }
}
