import Fluent
import SQLKit

/// 001: the registry — org structure, accounts, applicants, appeals, questions, topics, attachments, history, calendars.
struct CreateSchema: AsyncMigration {
    var name: String { "001_CreateSchema" }

    func prepare(on db: any Database) async throws {
        try await db.schema("org_units").id()
            .field("code", .string, .required).unique(on: "code")
            .field("name", .string, .required)
            .field("kind", .string, .required)
            .field("parent_id", .uuid, .references("org_units", "id"))
            .field("head_official_id", .uuid)
            .field("created_at", .datetime, .required)
            .create()
        try await db.schema("users").id()
            .field("login", .string, .required).unique(on: "login")
            .field("password_hash", .string, .required)
            .field("roles", .array(of: .string), .required)
            .field("full_name", .string, .required)
            .field("unit_ids", .array(of: .uuid), .required)
            .field("is_active", .bool, .required)
            .field("auth_source", .string, .required)
            .field("last_seen_at", .datetime)
            .field("created_at", .datetime, .required)
            .create()
        try await db.schema("officials").id()
            .field("unit_id", .uuid, .required, .references("org_units", "id"))
            .field("full_name", .string, .required)
            .field("position", .string)
            .field("email", .string)
            .field("phone", .string)
            .field("user_id", .uuid, .references("users", "id"))
            .create()
        try await db.schema("api_tokens").id()
            .field("user_id", .uuid, .required, .references("users", "id"))
            .field("token_hash", .string, .required).unique(on: "token_hash")
            .field("name", .string, .required)
            .field("permissions", .array(of: .string))
            .field("created_at", .datetime, .required)
            .field("last_used_at", .datetime)
            .field("revoked_at", .datetime)
            .create()
        try await db.schema("applicants").id()
            .field("kind", .string, .required)
            .field("surname", .string)
            .field("name", .string)
            .field("patronymic", .string)
            .field("organisation_name", .string)
            .field("phones", .array(of: .string), .required)
            .field("emails", .array(of: .string), .required)
            .field("postal_address", .string)
            .field("address_key", .string)
            .field("social_status", .string)
            .field("territory", .string)
            .field("audience", .string)
            .field("social_links", .array(of: .string), .required)
            .field("contact_source", .string)
            .field("publicity_consent", .bool, .required)
            .field("search_text", .string, .required)
            .field("created_at", .datetime, .required)
            .field("updated_at", .datetime, .required)
            .create()
        try await db.schema("applicant_contacts").id()
            .field("applicant_id", .uuid, .required, .references("applicants", "id"))
            .field("kind", .string, .required)
            .field("value_key", .string, .required)
            .create()
        try await db.schema("topics")
            .field("code", .string, .identifier(auto: false))
            .field("name", .string, .required)
            .field("level", .int, .required)
            .field("parent_code", .string)
            .field("section", .string, .required)
            .field("assignable", .bool, .required)
            .field("is_local", .bool, .required)
            .field("search_text", .string, .required)
            .create()
        try await db.schema("tracking_sequences")
            .field("year", .int, .identifier(auto: false))
            .field("last_value", .int, .required)
            .create()
        try await db.schema("appeals").id()
            .field("tracking_code", .string, .required).unique(on: "tracking_code")
            .field("workflow", .string, .required)
            .field("status", .string, .required)
            .field("channel", .string, .required)
            .field("kind", .string, .required)
            .field("form", .string, .required)
            .field("urgency", .string, .required)
            .field("received_at", .datetime, .required)
            .field("registered_at", .datetime)
            .field("closed_at", .datetime)
            .field("applicant_id", .uuid, .references("applicants", "id"))
            .field("is_collective", .bool, .required)
            .field("is_deputy_inquiry", .bool, .required)
            .field("text", .string, .required)
            .field("address_text", .string)
            .field("lat", .double)
            .field("lon", .double)
            .field("district", .string)
            .field("office_id", .uuid, .references("org_units", "id"))
            .field("complained_unit_id", .uuid, .references("org_units", "id"))
            .field("redirected_to_unit_id", .uuid, .references("org_units", "id"))
            .field("repeat_of_id", .uuid, .references("appeals", "id"))
            .field("duplicate_of_id", .uuid, .references("appeals", "id"))
            .field("article11_ground", .string)
            .field("registration_due", .string, .required)
            .field("redirect_due", .string)
            .field("answer_due", .string)
            .field("control_date", .string)
            .field("extension_days", .int, .required)
            .field("extension_reason", .string)
            .field("under_control", .bool, .required)
            .field("external_id", .string)
            .field("search_text", .string, .required)
            .field("created_at", .datetime, .required)
            .field("updated_at", .datetime, .required)
            .create()
        try await db.schema("appeal_co_applicants").id()
            .field("appeal_id", .uuid, .required, .references("appeals", "id"))
            .field("applicant_id", .uuid, .required, .references("applicants", "id"))
            .create()
        try await db.schema("questions").id()
            .field("appeal_id", .uuid, .required, .references("appeals", "id"))
            .field("position", .int, .required)
            .field("topic_code", .string, .required, .references("topics", "code"))
            .field("text", .string, .required)
            .field("executor_unit_id", .uuid, .references("org_units", "id"))
            .field("executor_user_id", .uuid, .references("users", "id"))
            .field("status", .string, .required)
            .field("result", .string)
            .field("answer_text", .string)
            .field("created_at", .datetime, .required)
            .field("updated_at", .datetime, .required)
            .create()
        try await db.schema("attachments").id()
            .field("appeal_id", .uuid, .required, .references("appeals", "id"))
            .field("sha256", .string, .required)
            .field("file_name", .string, .required)
            .field("content_type", .string, .required)
            .field("size", .int64, .required)
            .field("uploaded_by", .uuid, .references("users", "id"))
            .field("created_at", .datetime, .required)
            .create()
        try await db.schema("history").id()
            .field("entity", .string, .required)
            .field("entity_id", .uuid, .required)
            .field("appeal_id", .uuid)
            .field("actor_id", .uuid)
            .field("actor", .string, .required)
            .field("at", .datetime, .required)
            .field("action", .string, .required)
            .field("field", .string)
            .field("from_value", .string)
            .field("to_value", .string)
            .field("comment", .string)
            .create()
        try await db.schema("calendar_days").id()
            .field("calendar", .string, .required)
            .field("date", .string, .required)
            .field("kind", .string, .required)
            .field("holiday", .string)
            .unique(on: "calendar", "date")
            .create()

        let sql = db as! any SQLDatabase
        let indexes: [(String, String, [String])] = [
            ("idx_appeals_received", "appeals", ["received_at", "id"]),
            ("idx_appeals_status", "appeals", ["status", "received_at"]),
            ("idx_appeals_office", "appeals", ["office_id", "received_at"]),
            ("idx_appeals_channel", "appeals", ["channel", "received_at"]),
            ("idx_appeals_control", "appeals", ["under_control", "control_date"]),
            ("idx_appeals_applicant", "appeals", ["applicant_id"]),
            ("idx_appeals_external", "appeals", ["external_id"]),
            ("idx_questions_appeal", "questions", ["appeal_id"]),
            ("idx_questions_topic", "questions", ["topic_code", "appeal_id"]),
            ("idx_questions_executor_unit", "questions", ["executor_unit_id", "appeal_id"]),
            ("idx_questions_executor_user", "questions", ["executor_user_id", "appeal_id"]),
            ("idx_contacts_key", "applicant_contacts", ["value_key"]),
            ("idx_contacts_applicant", "applicant_contacts", ["applicant_id"]),
            ("idx_applicants_address", "applicants", ["address_key"]),
            ("idx_history_entity", "history", ["entity_id", "at"]),
            ("idx_history_appeal", "history", ["appeal_id", "at"]),
            ("idx_attachments_appeal", "attachments", ["appeal_id"]),
            ("idx_co_applicants_appeal", "appeal_co_applicants", ["appeal_id"]),
            ("idx_topics_parent", "topics", ["parent_code"]),
            ("idx_org_units_parent", "org_units", ["parent_id"]),
        ]
        for (name, table, columns) in indexes {
            var builder = sql.create(index: name).on(table)
            for column in columns { builder = builder.column(column) }
            try await builder.run()
        }
    }

    func revert(on db: any Database) async throws {
        for table in ["calendar_days", "history", "attachments", "questions", "appeal_co_applicants", "appeals",
                      "tracking_sequences", "topics", "applicant_contacts", "applicants", "api_tokens", "officials",
                      "users", "org_units"] {
            try await db.schema(table).delete()
        }
    }
}
