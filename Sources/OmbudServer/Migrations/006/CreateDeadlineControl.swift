import Fluent
import Foundation
import OmbudDomain
import SQLKit

/// Tasks, promises and notifications. Every appeal open before this migration gets the task of its state, so the
/// rule "no open appeal without an open task" holds from the first start. Users get an e-mail address, a language
/// and the notification kinds they do not want by e-mail. Administrators get `notifications.manage`.
struct CreateDeadlineControl: AsyncMigration {
    func prepare(on db: any Database) async throws {
        let sql = db as! any SQLDatabase
        try await db.schema("tasks").id()
            .field("appeal_id", .uuid, .required, .references("appeals", "id"))
            .field("key", .string, .required)
            .field("title", .string)
            .field("state", .string)
            .field("status", .string, .required)
            .field("assignee_unit_id", .uuid, .references("org_units", "id"))
            .field("assignee_user_id", .uuid, .references("users", "id"))
            .field("due_at", .datetime)
            .field("checklist", .array(of: .json), .required)
            .field("entered_at", .datetime, .required)
            .field("next_alert_at", .datetime)
            .field("alerts_checked_until", .datetime)
            .field("created_by", .uuid)
            .field("closed_at", .datetime)
            .field("closed_by", .uuid)
            .field("updated_at", .datetime, .required)
            .create()
        try await sql.create(index: "idx_tasks_appeal").on("tasks").column("appeal_id").column("status").run()
        try await sql.create(index: "idx_tasks_alerts").on("tasks").column("status").column("next_alert_at").run()
        try await sql.create(index: "idx_tasks_user").on("tasks").column("assignee_user_id").column("status").run()
        try await sql.create(index: "idx_tasks_unit").on("tasks").column("assignee_unit_id").column("status").run()
        // The worklists' order: soonest due first, then the undated ones by entry.
        try await sql.create(index: "idx_tasks_due").on("tasks").column("status").column("due_at").column("entered_at").run()

        try await db.schema("promises").id()
            .field("appeal_id", .uuid, .required, .references("appeals", "id"))
            .field("applicant_id", .uuid, .references("applicants", "id"))
            .field("text", .string, .required)
            .field("due_date", .string, .required)
            .field("status", .string, .required)
            .field("responsible_user_id", .uuid, .references("users", "id"))
            .field("responsible_unit_id", .uuid, .references("org_units", "id"))
            .field("next_alert_at", .datetime)
            .field("alerts_checked_until", .datetime)
            .field("created_by", .uuid)
            .field("created_at", .datetime, .required)
            .field("updated_at", .datetime, .required)
            .field("settled_at", .datetime)
            .create()
        try await sql.create(index: "idx_promises_appeal").on("promises").column("appeal_id").run()
        try await sql.create(index: "idx_promises_applicant").on("promises").column("applicant_id").run()
        try await sql.create(index: "idx_promises_alerts").on("promises").column("status").column("next_alert_at").run()
        try await sql.create(index: "idx_promises_due").on("promises").column("due_date").run()

        try await db.schema("notifications").id()
            .field("user_id", .uuid, .required, .references("users", "id"))
            .field("kind", .string, .required)
            .field("appeal_id", .uuid)
            .field("task_id", .uuid)
            .field("promise_id", .uuid)
            .field("subject", .string, .required)
            .field("body", .string, .required)
            .field("dedupe_key", .string, .required)
            .field("created_at", .datetime, .required)
            .field("read_at", .datetime)
            .field("email_status", .string, .required)
            .field("email_to", .string)
            .field("email_error", .string)
            .field("emailed_at", .datetime)
            .unique(on: "dedupe_key")
            .create()
        try await sql.create(index: "idx_notifications_user").on("notifications").column("user_id").column("created_at").run()

        try await db.schema("stage_controls").id()
            .field("workflow", .string, .required).unique(on: "workflow")
            .field("timers", .string, .required)
            .field("updated_by", .string, .required)
            .field("updated_at", .datetime, .required)
            .create()

        try await db.schema("notification_templates").id()
            .field("kind", .string, .required)
            .field("language", .string, .required)
            .field("subject", .string, .required)
            .field("body", .string, .required)
            .field("updated_by", .string, .required)
            .field("updated_at", .datetime, .required)
            .unique(on: "kind", "language")
            .create()

        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        try await db.schema("users").field("email", .string).update()
        try await db.schema("users").field("language", .string, .required, .sql(.default("ru"))).update()
        try await db.schema("users")
            .field("mail_off", .array(of: .string), .required, .sql(.default(SQLLiteral.string(sql.dialect.name == "sqlite" ? "[]" : "{}"))))
            .update()

        try await PermissionGrants.grantToAdministrators(.notificationsManage, db: db)
        try await PermissionGrants.grantToAdministrators(.deadlinesManage, db: db)
        try await backfillTasks(db: db)
    }

    /// The task of its current state for every open appeal, assigned and timed as if it had just entered it.
    func backfillTasks(db: any Database) async throws {
        let workflow = AppealTransitions.workflow
        let settings = (try? Settings.fromEnvironment()) ?? Settings(dataDirectory: URL(fileURLWithPath: "var"))
        let calendar = try await ReferenceCache().calendar(settings.calendarKey, db: db)
        let zone = settings.timeZone
        var offset = 0
        while true {
            let appeals = try await Appeal.query(on: db).filter(\.$status ~~ workflow.openStates).sort(\.$id).range(offset..<(offset + 500)).all()
            if appeals.isEmpty { break }
            offset += appeals.count
            for appeal in appeals {
                let questions = try await Question.query(on: db).filter(\.$appeal.$id == appeal.requireID()).sort(\.$position).all()
                for task in try TaskPlanner.tasks(for: appeal, entering: appeal.status, at: appeal.updatedAt, questions: questions,
                                              headUserID: nil, control: .federalLaw59, calendar: calendar, zone: zone, alertsFrom: Date()) {
                    try await task.create(on: db)
                }
            }
        }
    }

    func revert(on db: any Database) async throws {
        try await PermissionGrants.revokeEverywhere(.notificationsManage, db: db)
        try await PermissionGrants.revokeEverywhere(.deadlinesManage, db: db)
        try await db.schema("users").deleteField("mail_off").update()
        try await db.schema("users").deleteField("language").update()
        try await db.schema("users").deleteField("email").update()
        for table in ["notification_templates", "stage_controls", "notifications", "promises", "tasks"] { try await db.schema(table).delete() }
    }
}
