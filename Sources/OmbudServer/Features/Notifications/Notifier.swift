import Fluent
import Foundation
import Mustache
import OmbudDomain
import SQLKit

/// What a notification says, before it is put in the user's language.
struct NotificationDraft: Sendable {
    var userID: UUID
    var kind: NotificationKind
    var dedupeKey: String
    var appealID: UUID?
    var taskID: UUID?
    var promiseID: UUID?
    var facts = Facts()

    struct Facts: Sendable {
        var trackingCode = ""
        var taskKey: String?
        var taskTitle: String?
        var state: String?
        var due: Date?
        var dueDay: CivilDate?
        var controlDate: CivilDate?
        var entered: Date?
        var level: EscalationLevel?
        var promise: String?
        var assignee: String?
    }
}

/// The texts of notifications: Mustache templates per kind and language, shipped in `Resources/Notifications`, which
/// administrators may replace (`notification_templates`). Texts are plain: no HTML escaping.
struct NotificationTexts: Sendable {
    struct Text: Codable, Sendable, Equatable {
        var subject: String
        var body: String
    }

    static let shipped: [UILanguage: [String: Text]] = {
        var all: [UILanguage: [String: Text]] = [:]
        for language in UILanguage.allCases {
            guard let url = Pages.resourcesURL?.appendingPathComponent("Notifications/\(language.rawValue).json"),
                  let data = try? Data(contentsOf: url), let texts = try? JSONDecoder().decode([String: Text].self, from: data)
            else { continue }
            all[language] = texts
        }
        return all
    }()

    /// Compiles a template as plain text; a template that does not parse is refused with the field named.
    static func compile(_ source: String, field: String) throws -> MustacheTemplate {
        do { return try MustacheTemplate(string: "{{% CONTENT_TYPE: TEXT}}" + source) } catch {
            throw AppError.invalid(field: field, reason: "not a valid Mustache template: \(error)")
        }
    }
}

enum Notifier {
    /// Stores drafts as notifications — once each (their dedupe key) — and queues the mail of those the user wants by
    /// e-mail. Runs inside the caller's write transaction. Returns how many were new.
    @discardableResult
    static func store(_ drafts: [NotificationDraft], users: [UUID: User], pages: Pages, smtp: Bool, zone: TimeZone, now: Date,
                      db: any Database) async throws -> Int {
        guard !drafts.isEmpty else { return 0 }
        var overrides: [String: NotificationTexts.Text] = [:]
        for record in try await NotificationTemplateRecord.query(on: db).all() {
            overrides["\(record.kind)/\(record.language)"] = .init(subject: record.subject, body: record.body)
        }
        var compiled: [String: (MustacheTemplate, MustacheTemplate)] = [:]
        let sql = db as! any SQLDatabase
        var added = 0
        for draft in drafts {
            guard let user = users[draft.userID] else { continue }
            let language = UILanguage(rawValue: user.language) ?? .ru
            let key = "\(draft.kind.rawValue)/\(language.rawValue)"
            if compiled[key] == nil {
                let text = overrides[key] ?? NotificationTexts.shipped[language]?[draft.kind.rawValue] ?? NotificationTexts.shipped[.ru]![draft.kind.rawValue]!
                compiled[key] = (try NotificationTexts.compile(text.subject, field: "subject"), try NotificationTexts.compile(text.body, field: "body"))
            }
            let context = self.context(draft, user: user, language: language, pages: pages, zone: zone, now: now)
            let subject = compiled[key]!.0.render(context).replacingOccurrences(of: "\n", with: " ")
            let body = compiled[key]!.1.render(context)
            let mailed = smtp && user.email != nil && !user.mailOff.contains(draft.kind.rawValue)
            let id = UUID.timeOrdered(at: now)
            let rows = try await sql.insert(into: NotificationRecord.schema)
                .columns("id", "user_id", "kind", "appeal_id", "task_id", "promise_id", "subject", "body", "dedupe_key", "created_at",
                         "email_status", "email_to")
                .values(SQLBind(id), SQLBind(draft.userID), SQLBind(draft.kind.rawValue), SQLBind(draft.appealID), SQLBind(draft.taskID),
                        SQLBind(draft.promiseID), SQLBind(String(subject.prefix(300))), SQLBind(body), SQLBind(draft.dedupeKey), SQLBind(now),
                        SQLBind((mailed ? DeliveryStatus.pending : .none).rawValue), SQLBind(mailed ? user.email : nil))
                .ignoringConflicts(with: ["dedupe_key"])
                .returning("id")
                .all()
            guard !rows.isEmpty else { continue }
            added += 1
            if mailed {
                try await JobQueue.enqueue(kind: MailJob.kind, payload: #"{"notification":"\#(id.uuidString)"}"#,
                                           uniqueKey: "mail:\(id.uuidString)", runAt: now, now: now, db: db)
            }
        }
        return added
    }

    /// The template's variables, in the user's language: dates as that language writes them (Solar Hijri with Persian
    /// digits in Persian), the task and state by their catalogue names.
    static func context(_ draft: NotificationDraft, user: User, language: UILanguage, pages: Pages, zone: TimeZone,
                        now: Date) -> [String: Any] {
        let f = draft.facts
        let format = LocalFormat(language: language, zone: zone)
        var context: [String: Any] = ["name": user.fullName, "appeal": f.trackingCode, "kind": draft.kind.rawValue]
        if let title = f.taskTitle { context["task"] = title } else if let key = f.taskKey { context["task"] = pages.text("tasks", key, language: language) }
        if let state = f.state { context["state"] = pages.text("states", state, language: language) }
        if let level = f.level { context["level"] = pages.text("levels", level.rawValue, language: language) }
        if let due = f.dueDay { context["due"] = format.date(due) } else if let due = f.due { context["due"] = format.due(due) }
        if let control = f.controlDate {
            context["controlDate"] = format.date(control)
            context["daysLeft"] = format.number(String(CivilDate.of(now, in: zone).days(until: control) + 1))
        }
        if let entered = f.entered { context["entered"] = format.date(entered) }
        if let promise = f.promise { context["promise"] = promise }
        if let assignee = f.assignee { context["assignee"] = assignee }
        return context
    }
}
