import Fluent
import Foundation
import OmbudDomain
import Vapor

struct ChecklistItemView: Content, Equatable {
    var label: String
    /// The label in the reader's language (a catalogue key's translation, or the label itself).
    var text: String
    var done: Bool
    var doneBy: String?
    var doneAt: Date?
}

struct TaskView: Content, Equatable {
    var id: UUID
    var appealId: UUID
    var trackingCode: String
    var key: String
    var title: String
    var state: String?
    var status: String
    var assigneeUnitCode: String?
    var assigneeUserId: UUID?
    var assigneeName: String?
    var dueAt: Date?
    var overdue: Bool
    var enteredAt: Date
    var closedAt: Date?
    var checklist: [ChecklistItemView]
}

struct PromiseView: Content, Equatable {
    var id: UUID
    var appealId: UUID
    var trackingCode: String
    var applicantId: UUID?
    var text: String
    var dueDate: String
    var status: String
    var responsibleUserId: UUID?
    var responsibleName: String?
    var responsibleUnitCode: String?
    var overdue: Bool
    var createdAt: Date
    var settledAt: Date?
}

/// Builds task and promise views with the codes and names they show, in a few queries for a whole list.
struct TaskViews {
    typealias Translate = @Sendable (_ section: String, _ key: String) -> String
    let db: any Database
    let translate: Translate

    init(req: Request) {
        db = req.db
        translate = Self.translator(req)
    }

    /// A catalogue key's text in the request's language; a label that is no key (a task typed by hand) stays as it is.
    static func translator(_ req: Request) -> Translate {
        let pages = req.application.pages
        let language = req.language
        return { section, key in
            let text = pages.text(section, key, language: language)
            return text == "\(section).\(key)" ? key : text
        }
    }

    func tasks(_ records: [TaskRecord], now: Date) async throws -> [TaskView] {
        let codes = try await AppealQueries.trackingCodes(Array(Set(records.map(\.$appeal.id))), db: db)
        let units = try await UnitLookup(db: db).codes(records.compactMap(\.assigneeUnitID))
        let names = try await userNames(records.compactMap(\.assigneeUserID))
        return try records.map { t in
            try TaskView(id: t.requireID(), appealId: t.$appeal.id, trackingCode: codes[t.$appeal.id] ?? "", key: t.key,
                     title: t.title ?? translate("tasks", t.key), state: t.state, status: t.status,
                     assigneeUnitCode: t.assigneeUnitID.flatMap { units[$0] }, assigneeUserId: t.assigneeUserID,
                     assigneeName: t.assigneeUserID.flatMap { names[$0] },
                     dueAt: t.dueAt, overdue: t.status == TaskStatus.open.rawValue && (t.dueAt.map { $0 <= now } ?? false),
                     enteredAt: t.enteredAt, closedAt: t.closedAt,
                     checklist: t.checklist.map { ChecklistItemView(label: $0.label, text: translate("checklist", $0.label), done: $0.done,
                                                                    doneBy: $0.doneBy, doneAt: $0.doneAt) })
        }
    }

    func promises(_ records: [PromiseRecord], today: CivilDate) async throws -> [PromiseView] {
        let codes = try await AppealQueries.trackingCodes(Array(Set(records.map(\.$appeal.id))), db: db)
        let units = try await UnitLookup(db: db).codes(records.compactMap(\.responsibleUnitID))
        let names = try await userNames(records.compactMap(\.responsibleUserID))
        return try records.map { p in
            let settled = PromiseStatus(rawValue: p.status)?.isSettled ?? false
            return try PromiseView(id: p.requireID(), appealId: p.$appeal.id, trackingCode: codes[p.$appeal.id] ?? "", applicantId: p.applicantID,
                               text: p.text, dueDate: p.dueDate, status: p.status, responsibleUserId: p.responsibleUserID,
                               responsibleName: p.responsibleUserID.flatMap { names[$0] },
                               responsibleUnitCode: p.responsibleUnitID.flatMap { units[$0] },
                               overdue: !settled && (CivilDate(iso: p.dueDate).map { $0 < today } ?? false),
                               createdAt: p.createdAt, settledAt: p.settledAt)
        }
    }

    private func userNames(_ ids: [UUID]) async throws -> [UUID: String] {
        guard !ids.isEmpty else { return [:] }
        return Dictionary(try await User.query(on: db).filter(\.$id ~~ Array(Set(ids))).all().map { (try $0.requireID(), $0.fullName) },
                          uniquingKeysWith: { a, _ in a })
    }
}

extension TaskView: JSONWritable {
    func write(to json: inout JSONWriter) {
        json.object { o in
            o.field("id", id)
            o.field("appealId", appealId)
            o.field("trackingCode", trackingCode)
            o.field("key", key)
            o.field("title", title)
            o.field("state", state)
            o.field("status", status)
            o.field("assigneeUnitCode", assigneeUnitCode)
            o.field("assigneeUserId", assigneeUserId)
            o.field("assigneeName", assigneeName)
            o.field("dueAt", dueAt)
            o.field("overdue", overdue)
            o.field("enteredAt", enteredAt)
            o.field("closedAt", closedAt)
            o.field("checklist", checklist)
        }
    }
}

extension ChecklistItemView: JSONWritable {
    func write(to json: inout JSONWriter) {
        json.object { o in
            o.field("label", label)
            o.field("text", text)
            o.field("done", done)
            o.field("doneBy", doneBy)
            o.field("doneAt", doneAt)
        }
    }
}

extension PromiseView: JSONWritable {
    func write(to json: inout JSONWriter) {
        json.object { o in
            o.field("id", id)
            o.field("appealId", appealId)
            o.field("trackingCode", trackingCode)
            o.field("applicantId", applicantId)
            o.field("text", text)
            o.field("dueDate", dueDate)
            o.field("status", status)
            o.field("responsibleUserId", responsibleUserId)
            o.field("responsibleName", responsibleName)
            o.field("responsibleUnitCode", responsibleUnitCode)
            o.field("overdue", overdue)
            o.field("createdAt", createdAt)
            o.field("settledAt", settledAt)
        }
    }
}
