import Fluent
import Foundation
import OmbudDomain
import SQLKit
import Vapor

/// Staff pages for appeals: the intake form, the appeal card with the actions open to the user, the answer to a
/// question. Every page works without JavaScript: forms post, errors re-display the form with the input kept.
struct AppealPages: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let pages = routes.grouped(PageGuard(), RememberLanguage()).grouped("appeals")
        pages.grouped(Require(.appealsCreate)).get("new", use: intakeForm)
        pages.grouped(Require(.appealsCreate)).post("new", use: register)
        pages.grouped(Require(.appealsRead)).get(":code", use: card)
        pages.grouped(Require(.appealsTransition)).post(":code", "transition", use: transition)
        pages.grouped(Require(.appealsEdit)).post(":code", "questions", ":question", use: answer)
    }

    // MARK: intake

    /// What the intake form posts; every field optional so a half-filled form comes back with its errors.
    struct IntakeForm: Content {
        var _csrf: String?
        var _once: String?
        var channel: String?
        var kind: String?
        var urgency: String?
        var surname: String?
        var name: String?
        var patronymic: String?
        var phone: String?
        var email: String?
        var postalAddress: String?
        var address: String?
        var district: String?
        var text: String?
        var topicCode: String?
        var officeCode: String?
        var register: String?

        /// Persian and Arabic digits typed into codes and phones become Latin ones.
        func latin(_ value: String?) -> String? { value.map(TextNormalizer.latinDigits) }

        var input: AppealInput {
            func some(_ s: String?) -> String? { s.map { $0.trimmed() }.flatMap { $0.isEmpty ? nil : $0 } }
            var applicant: ApplicantInput?
            if [surname, name, patronymic, phone, email, postalAddress].contains(where: { some($0) != nil }) {
                applicant = ApplicantInput(surname: some(surname), name: some(name), patronymic: some(patronymic), phone: some(latin(phone)),
                                           email: some(email), postalAddress: some(postalAddress))
            }
            let question = some(latin(topicCode)).map { [QuestionInput(topicCode: $0)] }
            let place = some(address) != nil || some(district) != nil ? AddressInput(text: some(address), district: some(district)) : nil
            return AppealInput(channel: channel ?? "", text: text ?? "", kind: some(kind), urgency: some(urgency), applicant: applicant,
                               questions: question, address: place, officeCode: some(latin(officeCode)), register: register != nil)
        }
    }

    func intakeForm(req: Request) async throws -> Response {
        let user = try await req.currentUser()
        let office = try await OrgUnit.query(on: req.db).filter(\.$id ~~ user.unitIDs).first()?.code
        var form = IntakeForm(channel: AppealChannel.phone.rawValue, kind: AppealKind.statement.rawValue, urgency: Urgency.followUp.rawValue,
                              officeCode: office, register: "on")
        form._once = UUID().uuidString
        return Self.intakePage(req, form: form, errors: [:], status: .ok)
    }

    /// Registers the appeal once per form (its `_once` token: a second submission of the same form goes to the appeal
    /// the first created), then shows its card. Bad input comes back with each field's error next to it.
    func register(req: Request) async throws -> Response {
        var form = try req.content.decode(IntakeForm.self)
        let token = form._once.flatMap(UUID.init(uuidString:)) ?? UUID()
        form._once = token.uuidString
        let actor = try req.actor
        let now = req.now
        switch try await FormOnce.claim(token, userID: actor.userID, store: req.store, now: now) {
        case let .done(appealID):
            let code = try await AppealQueries.trackingCodes([appealID], db: req.db)[appealID] ?? ""
            return req.redirect(to: "/appeals/\(code)", redirectType: .normal)
        case .inFlight:
            // The same form is being registered by a request that came a moment earlier: wait for it.
            for _ in 0..<50 {
                try await Task.sleep(nanoseconds: 100_000_000)
                if case let .done(appealID) = try await FormOnce.claim(token, userID: actor.userID, store: req.store, now: now, peek: true) {
                    let code = try await AppealQueries.trackingCodes([appealID], db: req.db)[appealID] ?? ""
                    return req.redirect(to: "/appeals/\(code)", redirectType: .normal)
                }
            }
            throw AppError.conflict(code: "in-flight", reason: "this form is still being registered", field: nil)
        case .claimed:
            break
        }
        do {
            let validated: AppealIntake.Validated
            do { validated = try AppealIntake.validate(form.input, now: now) } catch { throw error.appError }
            let view = try await AppealIntake.create(validated, actor: actor, settings: req.settings, store: req.store, queue: req.intake,
                                                     now: now, translate: TaskViews.translator(req))
            try await FormOnce.complete(token, appealID: view.id, store: req.store)
            return req.redirect(to: "/appeals/\(view.trackingCode)?created=1", redirectType: .normal)
        } catch let error as AppError {
            try await FormOnce.release(token, store: req.store)
            guard let field = error.field else { throw error }
            return Self.intakePage(req, form: form, errors: [Self.formField(field): error.detail], status: .unprocessableEntity)
        }
    }

    /// `applicant.phone` → `phone`, `questions[0].topicCode` → `topicCode`, `address.text` → `address`.
    static func formField(_ apiField: String) -> String {
        let last = String(apiField.split(separator: ".").last ?? "")
        let plain = last.split(separator: "[").first.map(String.init) ?? last
        switch apiField {
        case "address.text": return "address"
        case "address.district": return "district"
        case "questions": return "topicCode"
        default: return plain
        }
    }

    static func intakePage(_ req: Request, form: IntakeForm, errors: [String: String], status: HTTPResponseStatus) -> Response {
        func options<E: RawRepresentable & CaseIterable>(_ type: E.Type, _ section: String, selected: String?) -> [[String: Any]]
        where E.RawValue == String {
            E.allCases.map { ["value": $0.rawValue, "label": req.text(section, $0.rawValue), "selected": $0.rawValue == selected] }
        }
        var fields: [String: Any] = [:]
        for (key, value) in [("surname", form.surname), ("name", form.name), ("patronymic", form.patronymic), ("phone", form.phone),
                             ("email", form.email), ("postalAddress", form.postalAddress), ("address", form.address),
                             ("district", form.district), ("text", form.text), ("topicCode", form.topicCode), ("officeCode", form.officeCode)] {
            fields[key] = ["value": value ?? "", "error": errors[key]].present
        }
        return req.page("intake", [
            "form": fields, "once": form._once ?? "", "register": form.register != nil, "failed": !errors.isEmpty,
            "otherError": errors.keys.contains { fields[$0] == nil } ? errors.values.joined(separator: "; ") : "",
            "channels": options(AppealChannel.self, "channels", selected: form.channel),
            "kinds": options(AppealKind.self, "kinds", selected: form.kind),
            "urgencies": options(Urgency.self, "urgency", selected: form.urgency),
        ], status: status)
    }

    // MARK: the card

    func card(req: Request) async throws -> Response {
        let appeal = try await Self.visibleAppeal(req)
        return try await Self.cardPage(req, appeal: appeal, notice: req.query[String.self, at: "created"] != nil
                                           ? req.text("intake", "created").replacingOccurrences(of: "{code}", with: appeal.trackingCode) : nil)
    }

    static func visibleAppeal(_ req: Request) async throws -> Appeal {
        let raw = req.parameters.get("code") ?? ""
        guard let code = TrackingCode(TextNormalizer.latinDigits(raw)),
              let appeal = try await Appeal.query(on: req.db).filter(\.$trackingCode == code.description).first(),
              try await req.maySee(appeal, in: try await req.accessScope()) else {
            throw AppError.notFound(entity: "appeal", id: raw)
        }
        return appeal
    }

    static func cardPage(_ req: Request, appeal: Appeal, notice: String? = nil, error: String? = nil, errorField: String? = nil,
                         status: HTTPResponseStatus = .ok) async throws -> Response {
        let actor = try req.actor
        let view = try await AppealQueries.view(appeal, actor: actor, settings: req.settings, db: req.db, now: req.now)
        if let applicant = view.applicant, !applicant.masked {
            try await req.audit("personal-data.view", entity: "appeal", entityID: view.id.uuidString, details: view.trackingCode)
        }
        let f = req.format
        let today = CivilDate.of(req.now, in: req.settings.timeZone)
        let views = TaskViews(req: req)
        let tasks = try await views.tasks(TaskRecord.query(on: req.db).filter(\.$appeal.$id == appeal.id!).sort(\.$enteredAt).all(), now: req.now)
        let promises = try await views.promises(PromiseRecord.query(on: req.db).filter(\.$appeal.$id == appeal.id!).sort(\.$createdAt).all(),
                                                today: today)
        let history = try await HistoryEntry.query(on: req.db).group(.or) { $0.filter(\.$appealID == appeal.id!).filter(\.$entityID == appeal.id!) }
            .sort(\.$at).all()
        var deadline: [String: Any] = [:]
        if let days = view.deadlines.daysLeft {
            deadline["text"] = days >= 0 ? req.text("card", "daysLeft", ["n": days]) : req.text("card", "overdue", ["n": -days])
            deadline["class"] = days < 0 ? "overdue" : days <= 3 ? "close" : "ok"
        }
        let workflow = AppealTransitions.workflow
        let actions: [[String: Any]] = view.allowedTransitions.map { target in
            let requires = workflow.transitions(from: appeal.status).first { $0.to == target && !$0.roles.isDisjoint(with: actor.roles) }?.requires ?? []
            return [
                "to": target, "label": req.text("states", target),
                "reason": requires.contains(.reason), "unit": requires.contains(.targetUnit) || target == "assigned",
                "ground": requires.contains(.article11Ground), "duplicate": requires.contains(.duplicateOf),
                "grounds": Article11Ground.allCases.map { ["value": $0.rawValue, "label": req.text("grounds", $0.rawValue)] },
            ]
        }
        let stateOf: (String) -> String = { req.text("states", $0) }
        let applicant: [String: Any]? = view.applicant.map { a in
            ["applicantId": a.id.uuidString, "name": a.fullName, "phones": a.phones.joined(separator: ", "), "emails": a.emails.joined(separator: ", "),
             "postal": a.postalAddress, "masked": a.masked].present
        }
        let context: [String: Any?] = [
            "id": view.id.uuidString, "code": view.trackingCode, "status": stateOf(view.status), "statusKey": view.status,
            "channel": req.text("channels", view.channel), "kind": req.text("kinds", view.kind),
            "received": f.dateTime(view.receivedAt), "registered": view.registeredAt.map { f.dateTime($0) },
            "controlDate": view.deadlines.controlDate.flatMap(CivilDate.init(iso:)).map { f.date($0) }, "deadline": deadline.isEmpty ? nil : deadline,
            "overdue": view.overdue, "text": view.text, "address": view.address?.text, "district": view.address?.district,
            "applicant": applicant, "repeatOf": view.repeatOf, "duplicateOfCode": view.duplicateOf,
            "questions": view.questions.map { q in
                ["id": q.id.uuidString, "position": f.number(String(q.position)), "topic": q.topicCode, "executor": q.executorUnitCode,
                 "result": q.result.map { req.text("results", $0) }, "answer": q.answerText ?? "",
                 "results": QuestionResult.allCases.map { ["value": $0.rawValue, "label": req.text("results", $0.rawValue), "selected": $0.rawValue == q.result] },
                ].present
            },
            "actions": actions, "hasActions": !actions.isEmpty, "canEdit": actor.can(.appealsEdit) && workflow.isOpen(appeal.status),
            "tasks": tasks.map { t in
                ["title": t.title, "state": t.state.map(stateOf), "status": t.status, "open": t.status == TaskStatus.open.rawValue,
                 "due": t.dueAt.map { f.due($0) }, "overdue": t.overdue, "assignee": t.assigneeName ?? t.assigneeUnitCode,
                 "checklist": t.checklist.map { ["text": $0.text, "done": $0.done] },
                ].present
            },
            "promises": promises.map { p in
                ["text": p.text, "due": CivilDate(iso: p.dueDate).map { f.date($0) } ?? p.dueDate, "status": req.text("promiseStatus", p.status), "overdue": p.overdue,
                 "responsible": p.responsibleName].present
            },
            "history": history.map { h in
                ["at": f.dateTime(h.at), "actor": h.actor, "action": h.action, "actionText": req.text("history", h.action),
                 "field": h.field == "status" ? nil : h.field.map { req.catalogued("fields", $0) },
                 "from": h.field == "status" ? h.fromValue.map(stateOf) : h.fromValue,
                 "to": h.field == "status" ? h.toValue.map(stateOf) : h.toValue, "comment": h.comment].present
            },
            "notice": notice, "error": error, "errorField": errorField,
        ]
        return req.page("appeal", context.present, status: status)
    }

    // MARK: actions

    struct TransitionForm: Content {
        var _csrf: String?
        var to: String?
        var reason: String?
        var unitCode: String?
        var article11Ground: String?
        var duplicateOf: String?
    }

    func transition(req: Request) async throws -> Response {
        let appeal = try await Self.visibleAppeal(req)
        let form = try req.content.decode(TransitionForm.self)
        func some(_ s: String?) -> String? { s.map { $0.trimmed() }.flatMap { $0.isEmpty ? nil : $0 } }
        let input = TransitionInput(to: form.to ?? "", comment: nil, reason: some(form.reason), article11Ground: some(form.article11Ground),
                                    unitCode: some(form.unitCode).map(TextNormalizer.latinDigits),
                                    duplicateOf: some(form.duplicateOf).map(TextNormalizer.latinDigits))
        do {
            try await AppealTransitions.transition(appealID: appeal.id!, input: input, actor: try req.actor, settings: req.settings,
                                                   store: req.store, now: req.now)
        } catch let error as AppError {
            guard let fresh = try await Appeal.find(appeal.id, on: req.db) else { throw error }
            return try await Self.cardPage(req, appeal: fresh, error: error.reason, errorField: error.field, status: error.status)
        }
        return req.redirect(to: "/appeals/\(appeal.trackingCode)#actions", redirectType: .normal)
    }

    struct AnswerForm: Content {
        var _csrf: String?
        var result: String?
        var answerText: String?
    }

    func answer(req: Request) async throws -> Response {
        let appeal = try await Self.visibleAppeal(req)
        guard let questionID = req.parameters.get("question", as: UUID.self) else {
            throw AppError.notFound(entity: "question", id: req.parameters.get("question") ?? "")
        }
        let form = try req.content.decode(AnswerForm.self)
        let update = QuestionUpdate(result: form.result.flatMap { $0.isEmpty ? nil : $0 }, answerText: form.answerText)
        do {
            try await QuestionEditing.update(appealID: appeal.id!, questionID: questionID, input: update, actor: try req.actor,
                                             store: req.store, now: req.now)
        } catch let error as AppError {
            return try await Self.cardPage(req, appeal: appeal, error: error.reason, errorField: error.field, status: error.status)
        }
        return req.redirect(to: "/appeals/\(appeal.trackingCode)#questions", redirectType: .normal)
    }
}
