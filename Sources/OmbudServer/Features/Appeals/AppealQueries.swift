import Fluent
import Foundation
import OmbudDomain
import SQLKit
import Vapor

enum AppealQueries {
    /// An appeal named by id or tracking code.
    /// The appeal named by id or tracking code, if `actor` may see it; one outside their scope is refused exactly like
    /// an unknown one, so that the answer does not tell whether it exists.
    static func resolve(_ ref: String, visibleTo actor: Actor, references: ReferenceCache.Snapshot, db: any Database,
                        field: String) async throws -> UUID {
        var appeal: Appeal?
        if let id = UUID(uuidString: ref) {
            appeal = try await Appeal.find(id, on: db)
        } else if let code = TrackingCode(ref) {
            appeal = try await Appeal.query(on: db).filter(\.$trackingCode == code.description).first()
        }
        guard let appeal, try await AccessCheck.allows(actor.scope(references), appeal: appeal, user: actor.userID, db: db) else {
            throw AppError.invalid(field: field, reason: "no appeal \(ref)")
        }
        return try appeal.requireID()
    }

    /// `hidden`: what stands for personal data in texts a reader without the permission sees, in their language.
    static func view(_ appeal: Appeal, actor: Actor, settings: Settings, hidden: String, db: any Database, now: Date) async throws -> AppealView {
        let id = try appeal.requireID()
        let questions = try await Question.query(on: db).filter(\.$appeal.$id == id).sort(\.$position).all()
        let units = UnitLookup(db: db)
        let unitIDs = [appeal.$office.id, appeal.complainedUnitID, appeal.redirectedToUnitID].compactMap { $0 }
            + questions.compactMap(\.executorUnitID)
        let codes = try await units.codes(unitIDs)
        var applicant: ApplicantSummary?
        if let applicantID = appeal.$applicant.id, let a = try await Applicant.find(applicantID, on: db) {
            applicant = try ApplicantStore.summary(a)
        }
        let coIDs = try await CoApplicant.query(on: db).filter(\.$appeal.$id == id).all().map(\.$applicant.id)
        let co = coIDs.isEmpty ? [] : try await Applicant.query(on: db).filter(\.$id ~~ coIDs).all().map(ApplicantStore.summary)
        let linked = try await trackingCodes([appeal.repeatOfID, appeal.duplicateOfID].compactMap { $0 }, db: db)
        let today = CivilDate.of(now, in: settings.timeZone)
        let view = try AppealView(
            id: id, trackingCode: appeal.trackingCode, status: appeal.status, channel: appeal.channel, replyChannel: try await replyChannel(id, db: db), kind: appeal.kind,
            form: appeal.form, urgency: appeal.urgency, receivedAt: appeal.receivedAt, registeredAt: appeal.registeredAt,
            closedAt: appeal.closedAt, applicant: applicant, coApplicants: co, isCollective: appeal.isCollective,
            isDeputyInquiry: appeal.isDeputyInquiry, text: appeal.text,
            address: appeal.addressText == nil && appeal.lat == nil && appeal.district == nil ? nil
                : AddressView(text: appeal.addressText, lat: appeal.lat, lon: appeal.lon, district: appeal.district),
            officeCode: appeal.$office.id.flatMap { codes[$0] },
            complainedUnitCode: appeal.complainedUnitID.flatMap { codes[$0] },
            redirectedToUnitCode: appeal.redirectedToUnitID.flatMap { codes[$0] },
            repeatOf: appeal.repeatOfID.flatMap { linked[$0] }, duplicateOf: appeal.duplicateOfID.flatMap { linked[$0] },
            article11Ground: appeal.article11Ground,
            deadlines: DeadlinesView(appeal.deadlines, underControl: appeal.underControl, today: today),
            overdue: isOverdue(appeal, today: today),
            questions: questions.map { q in
                try QuestionView(id: q.requireID(), position: q.position, topicCode: q.topicCode, text: q.text,
                             executorUnitCode: q.executorUnitID.flatMap { codes[$0] }, executorUserId: q.executorUserID,
                             status: q.status, result: q.result, answerText: q.answerText)
            },
            allowedTransitions: WorkflowEngine.allowedTargets(AppealTransitions.workflow, from: appeal.status, roles: actor.roles))
        return view.seen(by: actor.permissions, hidden: hidden)
    }

    static func isOverdue(_ appeal: Appeal, today: CivilDate) -> Bool {
        DeadlineRules.isOverdue(appeal.deadlines, isOpen: appeal.underControl, today: today)
    }

    /// The same rule for a list row, which carries only the two dates it needs.
    static func isOverdue(controlDate: String?, registrationDue: String, underControl: Bool, today: CivilDate) -> Bool {
        guard let registration = CivilDate(iso: registrationDue) else { return false }
        let deadlines = Deadlines(registrationDue: registration, controlDate: controlDate.flatMap(CivilDate.init(iso:)))
        return DeadlineRules.isOverdue(deadlines, isOpen: underControl, today: today)
    }

    /// `DeadlineRules.isOverdue` as a condition on the `appeals` table (or its alias `table`), for lists and counts.
    static func overdueSQL(today: CivilDate, table: String = "appeals") -> SQLQueryString {
        "(\(ident: table).under_control = \(bind: true) AND COALESCE(\(ident: table).control_date, \(ident: table).registration_due) < \(bind: today.iso))"
    }

    /// The appeal's reply channel (see the note on `Appeal`).
    static func replyChannel(_ id: UUID, db: any Database) async throws -> String? {
        try await (db as! any SQLDatabase).select().column("reply_channel").from(Appeal.schema).where("id", .equal, SQLBind(id)).first()?
            .decode(column: "reply_channel", as: String?.self)
    }

    static func trackingCodes(_ ids: [UUID], db: any Database) async throws -> [UUID: String] {
        guard !ids.isEmpty else { return [:] }
        // Two columns, not whole models: decoding an appeal row into its model is most of a worklist's cost.
        let rows = try await (db as! any SQLDatabase).select().column("id").column("tracking_code").from(Appeal.schema)
            .where("id", .in, SQLBind.group(Array(Set(ids)))).all()
        return Dictionary(try rows.map { (try $0.decode(column: "id", as: UUID.self), try $0.decode(column: "tracking_code", as: String.self)) },
                          uniquingKeysWith: { a, _ in a })
    }
}

extension AppealListItem {
    init(_ appeal: Appeal, today: CivilDate) throws {
        try self.init(id: appeal.requireID(), trackingCode: appeal.trackingCode, status: appeal.status, channel: appeal.channel, kind: appeal.kind,
                  receivedAt: appeal.receivedAt, controlDate: appeal.controlDate,
                  overdue: AppealQueries.isOverdue(appeal, today: today), district: appeal.district, excerpt: String(appeal.text.prefix(200)))
    }
}
