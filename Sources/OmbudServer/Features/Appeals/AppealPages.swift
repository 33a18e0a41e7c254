import Fluent
import Foundation
import OmbudDomain
import SQLKit
import Vapor

/// Staff pages for appeals: the appeal card with the actions open to the user, the answer to a question, attachments.
/// Every page works without JavaScript: forms post, errors re-display the form with the input kept.
struct AppealPages: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let pages = routes.grouped(PageGuard(), RememberLanguage()).grouped("appeals")
        pages.grouped(Require(.appealsRead)).get(":code", use: card)
        pages.grouped(Require(.appealsTransition)).post(":code", "transition", use: transition)
        pages.grouped(Require(.appealsEdit)).post(":code", "questions", ":question", use: answer)
        pages.grouped(Require(.appealsEdit)).on(.POST, ":code", "attachments", body: .collect(maxSize: ByteCount(value: bodyLimit)), use: attach)
        pages.grouped(Require(.appealsRead)).get(":code", "slip", use: slip)
        bootForms(pages)
    }

    let bodyLimit: Int

    // MARK: the card

    func card(req: Request) async throws -> Response {
        let appeal = try await Self.visibleAppeal(req)
        let failed = req.query[Int.self, at: "filesFailed"] ?? 0
        let created = req.query[String.self, at: "created"] != nil
        // A new appeal with nowhere to send the answer: the operator hears it while the caller is still there.
        let replyChannel = created ? try await AppealQueries.replyChannel(appeal.requireID(), db: req.db) : "known"
        return try await Self.cardPage(req, appeal: appeal, warning: replyChannel == nil ? req.text("intake", "noWayToAnswer") : nil,
                                       notice: req.query[String.self, at: "created"] != nil
                                           ? req.text("intake", "created").replacingOccurrences(of: "{code}", with: appeal.trackingCode)
                                           : req.query[String.self, at: "linked"] != nil ? req.text("intake", "linked") : nil,
                                       error: failed > 0 ? req.text("intake", "filesFailed", ["n": failed]) : nil)
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

    static func cardPage(_ req: Request, appeal: Appeal, warning: String? = nil, notice: String? = nil, error: String? = nil,
                         errorField: String? = nil, status: HTTPResponseStatus = .ok) async throws -> Response {
        let actor = try req.actor
        let view = try await AppealQueries.view(appeal, actor: actor, settings: req.settings, hidden: req.hiddenMark, db: req.db, now: req.now)
        if let applicant = view.applicant, !applicant.masked {
            try await req.audit("personal-data.view", entity: "appeal", entityID: view.id.uuidString, details: view.trackingCode)
        }
        let f = req.format
        let today = CivilDate.of(req.now, in: req.settings.timeZone)
        let views = TaskViews(req: req)
        let tasks = try await views.tasks(TaskRecord.query(on: req.db).filter(\.$appeal.$id == appeal.requireID()).sort(\.$enteredAt).all(), now: req.now)
        let promises = try await views.promises(PromiseRecord.query(on: req.db).filter(\.$appeal.$id == appeal.requireID()).sort(\.$createdAt).all(),
                                                today: today)
        let attachments = try await Attachment.query(on: req.db).filter(\.$appeal.$id == appeal.requireID()).sort(\.$createdAt).all()
        let ratings = try await AppealRating.query(on: req.db).filter(\.$appealID == appeal.requireID()).sort(\.$at).all()
        let letters = try await CorrespondenceRecord.query(on: req.db).filter(\.$appealID == appeal.requireID()).sort(\.$at).all()
        // Who wrote and their link are personal data: shown to those who may see it, like the applicant's card.
        let personal = actor.can(.personalData)
        let publication = try await PublicAppeal.find(appeal.id, on: req.db)
        // The answers to the topics' checklist questions: asked at intake, or an Open311 request's attributes.
        let attributes = (publication?.attributes.flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) } ?? [])
            + (try await ChecklistAnswers.stored(appeal.requireID(), db: req.db))
        let history = try await HistoryEntry.query(on: req.db).group(.or) { [appealID = try appeal.requireID()] in $0.filter(\.$appealID == appealID).filter(\.$entityID == appealID) }
            .sort(\.$at).all()
        let redact = try await req.redaction(for: appeal)
        let hidden = req.hiddenMark
        let opensFiles = try await req.mayOpenFiles(of: appeal)
        let historyViews = try history.map { try HistoryView($0).redacted(redact, hidden: hidden) }
        let labels = try await HistoryLabels.load(historyViews, db: req.db)
        let historyRows: [[String: Any]] = historyViews.map { h -> [String: Any] in
            let status = h.field == "status" && h.entity == "appeal"
            // An outside agency's update keeps its own reference in `from`: nothing a reader needs.
            let from: String? = h.action == "external-update" ? nil : labels.value(h.from, of: h, req: req)
            let to: String? = labels.value(h.to, of: h, req: req)
            let field: String? = status ? nil : h.field.map { req.catalogued("fields", $0) }
            let note = h.noteKey.map { req.historyNote(key: $0, params: h.noteParams ?? [:]) }
            let comment = [note, h.comment].compactMap { $0 }.joined(separator: ": ")
            let row: [String: Any?] = ["at": f.dateTime(h.at), "actor": h.actor, "action": h.action, "actionText": req.catalogued("history", h.action),
                                       "field": field, "from": from, "to": to, "comment": comment.nonEmpty]
            return row.present
        }
        // The page shows a message as the API does (`CorrespondenceView`: masked and redacted for the reader).
        let messageRows: [[String: Any]] = try letters.map { row -> [String: Any] in
            let m = try CorrespondenceView(row, personal: personal).redacted(redact)
            let fields: [String: Any?] = ["in": m.direction == "in", "channel": req.text("channels", m.channel), "at": f.dateTime(m.at),
                                          "subject": m.subject, "who": m.direction == "in" ? m.sender : m.recipient, "link": m.link,
                                          "text": m.text.nonEmpty, "automatic": m.automatic]
            return fields.present
        }
        let fileRows: [[String: Any]] = try attachments.enumerated().map { i, a -> [String: Any] in
            let file = try AttachmentView(a)
            let name = opensFiles ? file.fileName : file.unnamed(i + 1, hidden: hidden).fileName
            return ["id": file.id.uuidString, "name": name, "size": req.text("card", "kilobytes", ["n": max(1, a.size / 1024)]), "opens": opensFiles,
                    "image": opensFiles && a.contentType.hasPrefix("image/"), "pdf": opensFiles && a.contentType == "application/pdf",
                    "audio": opensFiles && a.contentType.hasPrefix("audio/")]
        }
        var deadline: [String: Any] = [:]
        if let days = view.deadlines.daysLeft {
            deadline["text"] = days >= 0 ? req.text("card", "daysLeft", ["n": days]) : req.text("card", "overdue", ["n": -days])
            deadline["class"] = days < 0 ? "overdue" : days <= 3 ? "close" : "ok"
        }
        let workflow = AppealTransitions.workflow
        // Closing a registered appeal is the "answered on the spot" form's, not a bare button.
        let onTheSpot = appeal.status == "registered" && view.allowedTransitions.contains("closed") && actor.can(.appealsEdit)
            && actor.can(.appealsTransition)
        let actions: [[String: Any]] = view.allowedTransitions.filter { !(appeal.status == "registered" && $0 == "closed") }.map { target in
            let requires = workflow.transitions(from: appeal.status).first { $0.to == target && !$0.roles.isDisjoint(with: actor.roles) }?.requires ?? []
            return [
                "to": target, "label": req.actionLabel(from: appeal.status, to: target),
                "reason": requires.contains(.reason), "unit": requires.contains(.targetUnit) || target == "assigned",
                "ground": requires.contains(.article11Ground), "duplicate": requires.contains(.duplicateOf), "person": target == "assigned",
                "grounds": Article11Ground.allCases.map { ["value": $0.rawValue, "label": req.text("grounds", $0.rawValue)] },
            ]
        }
        let stateOf: (String) -> String = { req.text("states", $0) }
        // Names, not codes: the questions' topics, units and people, the tasks' units.
        let topicNames = Dictionary(try await TopicRecord.query(on: req.db).filter(\.$id ~~ Set(view.questions.map(\.topicCode))).all()
            .map { (try $0.requireID(), $0.name) }, uniquingKeysWith: { a, _ in a })
        let unitNames = try await UnitLookup(db: req.db).names(codes: view.questions.compactMap(\.executorUnitCode) + tasks.compactMap(\.assigneeUnitCode))
        let personIDs = view.questions.compactMap(\.executorUserId)
        let personNames = personIDs.isEmpty ? [:] : Dictionary(try await User.query(on: req.db).filter(\.$id ~~ personIDs).all()
            .map { (try $0.requireID(), $0.fullName) }, uniquingKeysWith: { a, _ in a })
        let pickers = actions.contains { ($0["unit"] as? Bool) == true } ? try await Self.pickers(req) : nil
        let undelivered = historyViews.filter { ["reply-failed", "notice-failed"].contains($0.action) || ($0.action == "reply-pending" && $0.to == "none") }
        let canCallBack = CallBack.moves(from: appeal.status, satisfied: true) != nil && actor.can(.appealsTransition)
            && WorkflowEngine.allowedTargets(workflow, from: appeal.status, roles: actor.roles).contains(appeal.status == "answered" ? "feedback" : "closed")
        let otherOpen = canCallBack ? try await Self.otherOpenAppeals(of: appeal, req: req) : []
        let applicant: [String: Any]? = view.applicant.map { a in
            ["applicantId": a.id.uuidString, "name": a.fullName, "phones": a.phones.isEmpty ? nil : a.phones.joined(separator: ", "),
             "emails": a.emails.isEmpty ? nil : a.emails.joined(separator: ", "),
             "postal": a.postalAddress, "masked": a.masked].present
        }
        let context: [String: Any?] = [
            "id": view.id.uuidString, "code": view.trackingCode, "status": stateOf(view.status), "statusKey": view.status,
            "channel": req.text("channels", view.channel), "kind": req.text("kinds", view.kind),
            "replyChannel": view.replyChannel.map { req.text("channels", $0) },
            "received": f.dateTime(view.receivedAt), "registered": view.registeredAt.map { f.dateTime($0) },
            "controlDate": view.deadlines.controlDate.flatMap(CivilDate.init(iso:)).map { f.date($0) }, "deadline": deadline.isEmpty ? nil : deadline,
            "overdue": view.overdue, "text": view.text, "address": view.address?.text, "district": view.address?.district,
            "applicant": applicant, "repeatOf": view.repeatOf, "duplicateOfCode": view.duplicateOf,
            "questions": view.questions.map { q in
                ["id": q.id.uuidString, "position": f.number(String(q.position)), "topic": topicNames[q.topicCode] ?? q.topicCode, "topicCode": q.topicCode,
                 "executor": q.executorUnitCode.map { unitNames[$0] ?? $0 }, "person": q.executorUserId.flatMap { personNames[$0] },
                 "result": q.result.map { req.text("results", $0) }, "answer": q.answerText ?? "",
                 "results": QuestionResult.allCases.map { ["value": $0.rawValue, "label": req.text("results", $0.rawValue), "selected": $0.rawValue == q.result] },
                ].present
            },
            "actions": actions, "hasActions": !actions.isEmpty, "canEdit": actor.can(.appealsEdit) && workflow.isOpen(appeal.status),
            "units": pickers?.units, "people": pickers?.people,
            "hasUnits": pickers?.units.isEmpty == false, "hasPeople": pickers?.people.isEmpty == false,
            "canExtend": actor.can(.appealsEdit) && appeal.underControl && appeal.extensionDays == 0,
            "onTheSpot": onTheSpot, "canNote": actor.can(.appealsEdit),
            "canPromise": actor.can(.appealsEdit) && workflow.isOpen(appeal.status),
            "canCallBack": canCallBack, "otherOpen": otherOpen, "hasOtherOpen": !otherOpen.isEmpty,
            "undelivered": undelivered.last.map { entry in
                entry.noteKey.map { req.historyNote(key: $0, params: entry.noteParams ?? [:]) } ?? req.catalogued("history", entry.action)
            },
            "tasks": tasks.map { t in
                ["title": t.title, "state": t.state.map(stateOf), "status": t.status, "open": t.status == TaskStatus.open.rawValue,
                 "due": t.dueAt.map { f.due($0) }, "overdue": t.overdue, "assignee": t.assigneeName ?? t.assigneeUnitCode.map { unitNames[$0] ?? $0 },
                 "checklist": t.checklist.map { ["text": $0.text, "done": $0.done] },
                ].present
            },
            "promises": promises.map { p in
                ["text": p.text, "due": CivilDate(iso: p.dueDate).map { f.date($0) } ?? p.dueDate, "status": req.text("promiseStatus", p.status), "overdue": p.overdue,
                 "responsible": p.responsibleName].present
            },
            "history": historyRows,
            "attachments": fileRows,
            "canAttach": actor.can(.appealsEdit),
            "ratings": ratings.map { r in
                ["score": f.number(String(r.score)), "solved": req.text("portal", r.solved ? "solvedYes" : "solvedNo"), "comment": r.comment,
                 "at": f.dateTime(r.at), "source": req.catalogued("ratingSources", r.source)].present
            },
            "hasRatings": !ratings.isEmpty,
            "correspondence": messageRows,
            "hasCorrespondence": !letters.isEmpty,
            "listed": publication?.listed == true,
            "attributes": attributes.map { line in redact.map { $0(line) } ?? line }, "hasAttributes": !attributes.isEmpty,
            "notice": notice, "error": error, "errorField": errorField, "warning": warning,
        ]
        return req.page("appeal", context.present, status: status)
    }

    /// The units an appeal can be given to, and the people in them who answer appeals, grouped by unit.
    static func pickers(_ req: Request) async throws -> (units: [[String: Any]], people: [[String: Any]]) {
        let units = try await OrgUnit.query(on: req.db).sort(\.$name).all()
        let users = try await User.query(on: req.db).filter(\.$isActive == true).sort(\.$fullName).all()
            .filter { !Set($0.roles).isDisjoint(with: RoleKey.answering) }
        var byUnit: [UUID: [[String: Any]]] = [:]
        for user in users {
            for unitID in user.unitIDs { byUnit[unitID, default: []].append(["id": try user.requireID().uuidString, "name": user.fullName]) }
        }
        let people: [[String: Any]] = try units.compactMap { unit in
            guard let members = byUnit[try unit.requireID()] else { return nil }
            return ["unit": unit.name, "members": members]
        }
        return (units.map { ["code": $0.code, "name": $0.name] }, people)
    }

    /// The applicant's other open appeals the reader may see: one call-back answers all of them ("137").
    static func otherOpenAppeals(of appeal: Appeal, req: Request) async throws -> [[String: Any]] {
        guard let applicantID = appeal.$applicant.id else { return [] }
        let scope = try await req.accessScope()
        var rows: [[String: Any]] = []
        for other in try await Appeal.query(on: req.db).filter(\.$applicant.$id == applicantID).filter(\.$id != appeal.requireID())
            .filter(\.$status ~~ AppealTransitions.workflow.openStates).sort(\.$receivedAt, .descending).limit(20).all()
        where try await req.maySee(other, in: scope) {
            rows.append(["code": other.trackingCode, "status": req.text("states", other.status), "received": req.format.date(CivilDate.of(other.receivedAt, in: req.settings.timeZone))])
        }
        return rows
    }

    // MARK: actions

    func transition(req: Request) async throws -> Response {
        let appeal = try await Self.visibleAppeal(req)
        let form = try req.content.decode(TransitionForm.self)
        do {
            guard let input = form.input else { throw AppError.missing(field: "to") }
            if let raw = form.executorUserId.nonBlank, UUID(uuidString: raw) == nil { throw AppError.invalid(field: "executorUserId", reason: "not a person of the list") }
            try await AppealTransitions.transition(appealID: appeal.requireID(), input: input, actor: try req.actor, settings: req.settings,
                                                   store: req.store, now: req.now)
        } catch let error as AppError {
            guard let fresh = try await Appeal.find(appeal.id, on: req.db) else { throw error }
            return try await Self.cardPage(req, appeal: fresh, error: req.message(error), errorField: error.field, status: error.status)
        }
        return req.redirect(to: "/appeals/\(appeal.trackingCode)#actions", redirectType: .normal)
    }

    struct AttachForm: Content {
        var _csrf: String?
        var file: File?
    }

    /// A file added on the card (a scan, a photo, a call recording): stored like any attachment, the card shown again.
    func attach(req: Request) async throws -> Response {
        let appeal = try await Self.visibleAppeal(req)
        let form = try? req.content.decode(AttachForm.self)
        do {
            guard let file = form?.file, !file.filename.isEmpty || file.data.readableBytes > 0 else { throw AppError.missing(field: "file") }
            _ = try await AttachmentStore.save(appealID: appeal.requireID(), fileName: file.filename, data: file.data, actor: try req.actor,
                                               settings: req.settings, store: req.store, now: req.now)
        } catch let error as AppError {
            return try await Self.cardPage(req, appeal: appeal, error: req.message(error), errorField: error.field,
                                           status: error.status == .payloadTooLarge ? .unprocessableEntity : error.status)
        }
        return req.redirect(to: "/appeals/\(appeal.trackingCode)#attachments", redirectType: .normal)
    }

    /// A slip to print and hand to a visitor: the tracking code, the dates, where to ask.
    func slip(req: Request) async throws -> Response {
        let appeal = try await Self.visibleAppeal(req)
        let f = req.format
        let office = try await OrgUnit.find(appeal.$office.id, on: req.db)
        let pin = try await Self.pin(of: appeal, req: req)
        let context: [String: Any?] = [
            "code": appeal.trackingCode, "received": f.dateTime(appeal.receivedAt), "registered": appeal.registeredAt.map { f.dateTime($0) },
            "controlDate": appeal.deadlines.controlDate.map { f.date($0) }, "office": office?.name,
            "pin": pin, "portal": "\(req.baseURL)/portal/track", "trackLink": "\(req.baseURL)/portal/track?code=\(appeal.trackingCode)",
        ]
        return req.page("slip", context.present)
    }

    /// The appeal's PIN for the portal (`/portal/track`), made when its slip is first printed; a reprint shows the same.
    static func pin(of appeal: Appeal, req: Request) async throws -> String {
        let id = try appeal.requireID()
        if let row = try await AppealPIN.find(id, on: req.db) { return row.pin }
        let now = req.now
        do {
            return try await req.store.write { db in
                if let row = try await AppealPIN.find(id, on: db) { return row.pin }
                let row = AppealPIN()
                row.id = id
                row.pin = Tracking.newPIN()
                row.createdAt = now
                try await row.create(on: db)
                return row.pin
            }
        } catch {
            // Two first prints at once on PostgreSQL: the other made it; the same PIN is read back.
            guard let row = try await AppealPIN.find(id, on: req.db) else { throw error }
            return row.pin
        }
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
            try await QuestionEditing.update(appealID: appeal.requireID(), questionID: questionID, input: update, actor: try req.actor,
                                             store: req.store, now: req.now)
        } catch let error as AppError {
            return try await Self.cardPage(req, appeal: appeal, error: req.message(error), errorField: error.field, status: error.status)
        }
        return req.redirect(to: "/appeals/\(appeal.trackingCode)#questions", redirectType: .normal)
    }
}
