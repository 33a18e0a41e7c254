import Fluent
import Foundation
import SQLKit
import OmbudDomain

/// A piece of work on an appeal: created when the appeal enters a state (or by hand), closed when it leaves it.
final class TaskRecord: Model, @unchecked Sendable {
    static let schema = "tasks"
    @ID(key: .id) var id: UUID?
    @Parent(key: "appeal_id") var appeal: Appeal
    /// The template's key (a catalogue key) or `manual`.
    @Field(key: "key") var key: String
    /// The title of a task added by hand.
    @OptionalField(key: "title") var title: String?
    /// The appeal's state the task belongs to; a task added by hand belongs to no state.
    @OptionalField(key: "state") var state: String?
    @Field(key: "status") var status: String
    @OptionalField(key: "assignee_unit_id") var assigneeUnitID: UUID?
    @OptionalField(key: "assignee_user_id") var assigneeUserID: UUID?
    @OptionalField(key: "due_at") var dueAt: Date?
    @Field(key: "checklist") var checklist: [ChecklistItem]
    /// When the appeal entered the state: the start of the state's timers.
    @Field(key: "entered_at") var enteredAt: Date
    /// The next moment an alert of this stay falls due, and up to when alerts were sent.
    @OptionalField(key: "next_alert_at") var nextAlertAt: Date?
    @OptionalField(key: "alerts_checked_until") var alertsCheckedUntil: Date?
    @OptionalField(key: "created_by") var createdBy: UUID?
    @OptionalField(key: "closed_at") var closedAt: Date?
    @OptionalField(key: "closed_by") var closedBy: UUID?
    @Field(key: "updated_at") var updatedAt: Date
    /// One more at every change: what the deadline sweep compares before it writes (see migration 012).
    @Field(key: "version") var version: Int

    init() {}

    /// Saves a change of a row that was read; the sweep that read it before will leave it alone (`VersionedRow`).
    func saveChange(_ now: Date, on db: any Database) async throws {
        updatedAt = now
        try await save(on: db)
        try await Self.bumpVersion(of: requireID(), on: db)
    }
}

/// Rows the deadline sweep writes back only if unchanged since it read them: every change adds one to `version` in
/// the database itself (`version = version + 1`, not the value read plus one, so two writers that read the same
/// version both count).
protocol VersionedRow: Model {}

extension VersionedRow {
    static func bumpVersion(of id: IDValue, on db: any Database) async throws {
        try await (db as! any SQLDatabase).update(schema).set("version", to: SQLRaw("version + 1")).where("id", .equal, SQLBind(id)).run()
    }
}

extension TaskRecord: VersionedRow {}
extension PromiseRecord: VersionedRow {}

struct ChecklistItem: Codable, Sendable, Equatable {
    var label: String
    var done: Bool
    var doneBy: String?
    var doneAt: Date?
}

/// A commitment given to an applicant.
final class PromiseRecord: Model, @unchecked Sendable {
    static let schema = "promises"
    @ID(key: .id) var id: UUID?
    @Parent(key: "appeal_id") var appeal: Appeal
    @OptionalField(key: "applicant_id") var applicantID: UUID?
    @Field(key: "text") var text: String
    /// The day it is due (ISO date, the organisation's calendar).
    @Field(key: "due_date") var dueDate: String
    @Field(key: "status") var status: String
    @OptionalField(key: "responsible_user_id") var responsibleUserID: UUID?
    @OptionalField(key: "responsible_unit_id") var responsibleUnitID: UUID?
    @OptionalField(key: "next_alert_at") var nextAlertAt: Date?
    @OptionalField(key: "alerts_checked_until") var alertsCheckedUntil: Date?
    @OptionalField(key: "created_by") var createdBy: UUID?
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "updated_at") var updatedAt: Date
    @OptionalField(key: "settled_at") var settledAt: Date?
    @Field(key: "version") var version: Int

    init() {}

    func saveChange(_ now: Date, on db: any Database) async throws {
        updatedAt = now
        try await save(on: db)
        try await Self.bumpVersion(of: requireID(), on: db)
    }
}

/// One message to one user, shown in the app (read or unread) and, by the user's preference, sent by e-mail.
final class NotificationRecord: Model, @unchecked Sendable {
    static let schema = "notifications"
    @ID(key: .id) var id: UUID?
    @Parent(key: "user_id") var user: User
    @Field(key: "kind") var kind: String
    @OptionalField(key: "appeal_id") var appealID: UUID?
    @OptionalField(key: "task_id") var taskID: UUID?
    @OptionalField(key: "promise_id") var promiseID: UUID?
    @Field(key: "subject") var subject: String
    @Field(key: "body") var body: String
    /// Makes an alert reach a user once, however many workers look at it.
    @Field(key: "dedupe_key") var dedupeKey: String
    @Field(key: "created_at") var createdAt: Date
    @OptionalField(key: "read_at") var readAt: Date?
    @Field(key: "email_status") var emailStatus: String
    @OptionalField(key: "email_to") var emailTo: String?
    @OptionalField(key: "email_error") var emailError: String?
    @OptionalField(key: "emailed_at") var emailedAt: Date?

    init() {}
}

/// The administrators' timers of a workflow (a `TimersInput` as JSON); without a row the shipped ones apply.
final class StageControlRecord: Model, @unchecked Sendable {
    static let schema = "stage_controls"
    @ID(key: .id) var id: UUID?
    @Field(key: "workflow") var workflow: String
    @Field(key: "timers") var timers: String
    @Field(key: "updated_by") var updatedBy: String
    @Field(key: "updated_at") var updatedAt: Date

    init() {}
}

/// An administrator's version of a notification text; without one the shipped text is used.
final class NotificationTemplateRecord: Model, @unchecked Sendable {
    static let schema = "notification_templates"
    @ID(key: .id) var id: UUID?
    @Field(key: "kind") var kind: String
    @Field(key: "language") var language: String
    @Field(key: "subject") var subject: String
    @Field(key: "body") var body: String
    @Field(key: "updated_by") var updatedBy: String
    @Field(key: "updated_at") var updatedAt: Date

    init() {}
}
