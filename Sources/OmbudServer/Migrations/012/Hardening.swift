import Fluent
import Foundation
import OmbudDomain
import SQLKit

/// 012, hardening. An integer version on tasks and promises. The deadline sweep updates a row only if nobody changed it since it
/// was read; comparing `updated_at` for that failed on SQLite, which reads dates back rounded to microseconds, so
/// a row was never updated and the sweep stalled on it. Every change of a task or a promise now adds one to it.
struct Hardening: AsyncMigration {
    func prepare(on db: any Database) async throws {
        for table in ["tasks", "promises"] {
            try await db.schema(table).field("version", .int, .required, .sql(.default(0))).update()
        }
        // An Open311 request's answers to its service's attributes, kept as they came instead of appended to its text.
        try await db.schema("public_appeals").field("attributes", .string).update()
        try await Self.reindexAppeals(db)
        // The secret links that portal mail carried (only their SHA-256).
        try await db.schema("portal_links")
            .field("token_hash", .string, .identifier(auto: false))
            .field("appeal_id", .uuid, .required, .references("appeals", "id"))
            .field("created_at", .datetime, .required)
            .create()
    }

    /// Every appeal's index document again, with the applicant's name and the address marked as personal
    /// (`PersonalSearch`): readers without the personal-data permission no longer find appeals by a person's name.
    static func reindexAppeals(_ db: any Database) async throws {
        let sql = db as! any SQLDatabase
        var after: UUID?
        while true {
            var query = sql.select()
                .column(SQLColumn("id", table: "a")).column(SQLColumn("tracking_code", table: "a")).column(SQLColumn("text", table: "a"))
                .column(SQLColumn("address_text", table: "a")).column(SQLColumn("district", table: "a"))
                .column(SQLColumn("kind", table: "p"), as: "applicant_kind").column(SQLColumn("surname", table: "p"))
                .column(SQLColumn("name", table: "p")).column(SQLColumn("patronymic", table: "p")).column(SQLColumn("organisation_name", table: "p"))
                .from(SQLAlias(SQLIdentifier("appeals"), as: SQLIdentifier("a")))
                .join(SQLAlias(SQLIdentifier("applicants"), as: SQLIdentifier("p")), method: SQLJoinMethod.left,
                      on: SQLColumn("applicant_id", table: "a"), .equal, SQLColumn("id", table: "p"))
            if let after { query = query.where(SQLColumn("id", table: "a"), .greaterThan, SQLBind(after)) }
            let rows = try await query.orderBy(SQLColumn("id", table: "a")).limit(1000).all()
            guard let last = rows.last else { return }
            for row in rows {
                let organisation = try row.decode(column: "applicant_kind", as: String?.self) == "organisation"
                let name = organisation ? try row.decode(column: "organisation_name", as: String?.self)
                    : try ["surname", "name", "patronymic"].compactMap { try row.decode(column: $0, as: String?.self) }.joined(separator: " ")
                let document = AppealSearch.document(trackingCode: try row.decode(column: "tracking_code", as: String.self),
                                                     text: try row.decode(column: "text", as: String.self), applicantName: name,
                                                     address: try row.decode(column: "address_text", as: String?.self),
                                                     district: try row.decode(column: "district", as: String?.self))
                try await sql.update("appeals").set("search_text", to: SQLBind(document))
                    .where("id", .equal, SQLBind(try row.decode(column: "id", as: UUID.self))).run()
            }
            after = try last.decode(column: "id", as: UUID.self)
        }
    }

    func revert(on db: any Database) async throws {
        try await db.schema("portal_links").delete()
        try await db.schema("public_appeals").deleteField("attributes").update()
        for table in ["promises", "tasks"] {
            try await db.schema(table).deleteField("version").update()
        }
    }
}
