import Fluent
import FluentSQL
import Foundation
import OmbudDomain
import Vapor

struct PromiseInput: Content {
    var text: String?
    var dueDate: String?
    /// Who keeps it; the author by default.
    var responsibleLogin: String?
    var unitCode: String?
    var status: String?
}

struct PromisePage: Content {
    var items: [PromiseView]
    var total: Int
}

/// Promises (обещания) given to applicants: on an appeal, changed as work goes, and the register of all of them.
struct PromisesController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let read = routes.grouped(Require(.appealsRead))
        read.get("promises", use: register)
        read.get("appeals", ":id", "promises", use: ofAppeal)
        let edit = routes.grouped(Require(.appealsEdit))
        edit.post("appeals", ":id", "promises", use: create)
        edit.patch("promises", ":promiseID", use: update)
    }

    struct Filters: Content {
        var status: String?
        /// A login, or `me`.
        var responsible: String?
        var unit: String?
        var dueFrom: String?
        var dueTo: String?
        var overdue: Bool?
        var appeal: String?
        var limit: Int?
        var offset: Int?
    }

    /// The register: every promise of the appeals the reader may see, soonest due first.
    func register(req: Request) async throws -> Response {
        let filters = try req.query.decode(Filters.self)
        if let format = try ListExports.format(req) { return try await ListExports.promises(req, filters, format: format) }
        return try await Self.page(filters, req: req).encodeResponse(for: req)
    }

    /// One page of the register by these filters (the API and the worklist's "promises due").
    static func page(_ f: Filters, req: Request, paging: Paging? = nil) async throws -> PromisePage {
        let actor = try req.actor
        let today = CivilDate.of(req.now, in: req.settings.timeZone)
        var query = PromiseRecord.query(on: req.db).join(Appeal.self, on: \PromiseRecord.$appeal.$id == \Appeal.$id)
        if let scope = try await req.appealCondition() { query = query.filter(.sql(scope)) }
        if let raw = f.status {
            let statuses = try raw.split(separator: ",").map { s -> String in
                do throws(ValidationError) { return (try Validate.choice(String(s), field: "status") as PromiseStatus).rawValue } catch { throw error.appError }
            }
            query = query.filter(\.$status ~~ statuses)
        }
        if let responsible = f.responsible {
            if responsible == "me" {
                query = query.filter(\.$responsibleUserID == actor.userID)
            } else {
                guard let user = try await User.query(on: req.db).filter(\.$login == responsible).first() else {
                    throw AppError.invalid(field: "responsible", reason: "no user \(responsible)")
                }
                query = query.filter(\.$responsibleUserID == user.id)
            }
        }
        if let code = f.unit { query = query.filter(\.$responsibleUnitID == (try await UnitLookup(db: req.db).id(code, field: "unit"))) }
        if let raw = f.dueFrom { query = query.filter(\.$dueDate >= (try Self.day(raw, field: "dueFrom")).iso) }
        if let raw = f.dueTo { query = query.filter(\.$dueDate <= (try Self.day(raw, field: "dueTo")).iso) }
        if f.overdue == true {
            query = query.filter(\.$dueDate < today.iso).filter(\.$status ~~ [PromiseStatus.given.rawValue, PromiseStatus.inWork.rawValue])
        }
        if let ref = f.appeal {
            // An appeal outside the reader's scope is refused exactly like one that does not exist.
            query = query.filter(\.$appeal.$id == (try await req.resolveAppeal(ref, field: "appeal")))
        }
        let paging = try paging ?? Paging(limit: f.limit, offset: f.offset)
        let total = try await query.copy().countRows()
        let records = try await query.sort(\.$dueDate).sort(\.$createdAt).sort(\.$id).range(paging.range).all()
        return PromisePage(items: try await TaskViews(req: req).promises(records, today: today), total: total)
    }

    func ofAppeal(req: Request) async throws -> [PromiseView] {
        let id = try await req.visibleAppealID()
        return try await TaskViews(req: req).promises(PromiseRecord.query(on: req.db).filter(\.$appeal.$id == id).sort(\.$createdAt).all(),
                                                      today: CivilDate.of(req.now, in: req.settings.timeZone))
    }

    func create(req: Request) async throws -> Response {
        let appealID = try await req.visibleAppealID()
        let input = try req.content.decode(PromiseInput.self)
        let promise = try await Self.make(appealID: appealID, input: input, req: req)
        let today = CivilDate.of(req.now, in: req.settings.timeZone)
        let view = try await TaskViews(req: req).promises([promise], today: today)[0]
        return try await view.encodeResponse(status: .created, for: req)
    }

    /// A promise recorded on an appeal the reader may see (the API and the card's form).
    static func make(appealID: UUID, input: PromiseInput, req: Request) async throws -> PromiseRecord {
        let settings = req.settings
        let now = req.now
        let today = CivilDate.of(now, in: settings.timeZone)
        let due = try Self.day(input.dueDate, field: "dueDate")
        let text: String
        do { text = try PromiseRules.validate(text: input.text ?? "", due: due, today: today) } catch { throw error.appError }
        let actor = try req.actor
        let calendar = try await req.store.references.calendar(settings.calendarKey, db: req.db)
        let references = try await req.store.references.current(db: req.db)
        let promise = try await req.store.write { db in
            guard let appeal = try await Appeal.find(appealID, on: db) else { throw AppError.notFound(entity: "appeal", id: appealID.uuidString) }
            let responsible = try await AccessCheck.person(input.responsibleLogin, field: "responsibleLogin", for: appeal,
                                                           references: references, db: db)
            let unit = try await AccessCheck.unit(input.unitCode, field: "unitCode", for: appeal, references: references, db: db)
            let p = PromiseRecord()
            p.id = UUID.timeOrdered(at: now)
            p.$appeal.id = appealID
            p.applicantID = appeal.$applicant.id
            p.text = text
            p.dueDate = due.iso
            p.status = PromiseStatus.given.rawValue
            p.responsibleUserID = responsible?.id ?? actor.userID
            p.responsibleUnitID = unit ?? actor.unitIDs.first ?? appeal.$office.id
            p.nextAlertAt = Self.firstAlert(due: due, after: now, calendar: calendar, zone: settings.timeZone)
            p.createdBy = actor.userID
            p.createdAt = now
            p.updatedAt = now
            p.version = 0
            try await p.create(on: db)
            try await HistoryRecorder(db: db, actor: actor, at: now)
                .record(entity: "promise", id: p.requireID(), appealID: appealID, action: "create", to: "\(due.iso): \(text)")
            return p
        }
        return promise
    }

    func update(req: Request) async throws -> PromiseView {
        guard let id = req.parameters.get("promiseID", as: UUID.self), let found = try await PromiseRecord.find(id, on: req.db) else {
            throw AppError.notFound(entity: "promise", id: req.parameters.get("promiseID") ?? "")
        }
        _ = try await req.visibleAppeal(found.$appeal.id)
        let input = try req.content.decode(PromiseInput.self)
        let settings = req.settings
        let now = req.now
        let today = CivilDate.of(now, in: settings.timeZone)
        let actor = try req.actor
        let references = try await req.store.references.current(db: req.db)
        let promise = try await req.store.write { db in
            guard let p = try await PromiseRecord.find(id, on: db) else { throw AppError.notFound(entity: "promise", id: id.uuidString) }
            let current = PromiseStatus(rawValue: p.status) ?? .given
            guard !current.isSettled else {
                throw AppError.conflict(code: "promise-settled", reason: "the promise is \(p.status); give a new one instead", field: nil)
            }
            var changes: [(String, String?, String?)] = []
            let due = try input.dueDate.map { try Self.day($0, field: "dueDate") } ?? Self.day(p.dueDate, field: "dueDate")
            if input.text != nil || input.dueDate != nil {
                let text: String
                // Only a new date must not lie in the past: the text of an overdue promise can still be corrected.
                let from = input.dueDate == nil ? min(today, due) : today
                do throws(ValidationError) { text = try PromiseRules.validate(text: input.text ?? p.text, due: due, today: from) } catch { throw error.appError }
                changes += [("text", p.text, text), ("dueDate", p.dueDate, due.iso)]
                p.text = text
                if p.dueDate != due.iso {
                    p.dueDate = due.iso
                    // The sweep looks again at once: alerts of the new date that already fell due are sent.
                    p.alertsCheckedUntil = nil
                    p.nextAlertAt = now
                }
            }
            if input.responsibleLogin != nil, let appeal = try await Appeal.find(p.$appeal.id, on: db) {
                let user = try await AccessCheck.person(input.responsibleLogin, field: "responsibleLogin", for: appeal, references: references, db: db)
                changes.append(("responsible", p.responsibleUserID?.uuidString, user?.id?.uuidString))
                p.responsibleUserID = user?.id
            }
            if let raw = input.status {
                let next: PromiseStatus
                do throws(ValidationError) {
                    next = try Validate.choice(raw, field: "status")
                    try PromiseRules.transition(from: current, to: next)
                } catch { throw error.appError }
                changes.append(("status", p.status, next.rawValue))
                p.status = next.rawValue
                if next.isSettled {
                    p.settledAt = now
                    p.nextAlertAt = nil
                }
            }
            try await p.saveChange(now, on: db)
            try await HistoryRecorder(db: db, actor: actor, at: now).changes(entity: "promise", id: id, appealID: p.$appeal.id, changes)
            return p
        }
        return try await TaskViews(req: req).promises([promise], today: today)[0]
    }

    private static func firstAlert(due: CivilDate, after: Date, calendar: BusinessCalendar, zone: TimeZone) -> Date? {
        PromiseRules.alerts(due: due, calendar: calendar, zone: zone).first { $0.at >= after }?.at
    }

    private static func day(_ raw: String?, field: String) throws -> CivilDate {
        guard let raw, !raw.isEmpty else { throw AppError.missing(field: field) }
        guard let day = CivilDate(iso: raw) else { throw AppError.invalid(field: field, reason: "expected YYYY-MM-DD") }
        return day
    }
}
