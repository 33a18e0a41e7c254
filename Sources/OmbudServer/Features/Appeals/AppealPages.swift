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
    }

    let bodyLimit: Int

    // MARK: the card

    func card(req: Request) async throws -> Response {
        let appeal = try await Self.visibleAppeal(req)
        let failed = req.query[Int.self, at: "filesFailed"] ?? 0
        return try await Self.cardPage(req, appeal: appeal, notice: req.query[String.self, at: "created"] != nil
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

    static func cardPage(_ req: Request, appeal: Appeal, notice: String? = nil, error: String? = nil, errorField: String? = nil,
                         status: HTTPResponseStatus = .ok) async throws -> Response {
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
        let attributes = publication?.attributes.flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) } ?? []
        let history = try await HistoryEntry.query(on: req.db).group(.or) { [appealID = try appeal.requireID()] in $0.filter(\.$appealID == appealID).filter(\.$entityID == appealID) }
            .sort(\.$at).all()
        let redact = try await req.redaction(for: appeal)
        let hidden = req.hiddenMark
        let opensFiles = try await req.mayOpenFiles(of: appeal)
        let historyRows: [[String: Any]] = try history.map { entry -> [String: Any] in
            let h = try HistoryView(entry).redacted(redact, hidden: hidden)
            let status = h.field == "status"
            // An outside agency's update keeps its own reference in `from`: nothing a reader needs.
            let from: String? = status ? h.from.map { req.text("states", $0) } : h.action == "external-update" ? nil : h.from
            let to: String? = status ? h.to.map { req.text("states", $0) } : h.to
            let field: String? = status ? nil : h.field.map { req.catalogued("fields", $0) }
            let row: [String: Any?] = ["at": f.dateTime(h.at), "actor": h.actor, "action": h.action, "actionText": req.text("history", h.action),
                                       "field": field, "from": from, "to": to, "comment": h.comment]
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
            "history": historyRows,
            "attachments": fileRows,
            "canAttach": actor.can(.appealsEdit),
            "ratings": ratings.map { r in
                ["score": f.number(String(r.score)), "solved": req.text("portal", r.solved ? "solvedYes" : "solvedNo"), "comment": r.comment,
                 "at": f.dateTime(r.at), "source": r.source].present
            },
            "hasRatings": !ratings.isEmpty,
            "correspondence": messageRows,
            "hasCorrespondence": !letters.isEmpty,
            "listed": publication?.listed == true,
            "attributes": attributes, "hasAttributes": !attributes.isEmpty,
            "notice": notice, "error": error, "errorField": errorField,
        ]
        return req.page("appeal", context.present, status: status)
    }

    // MARK: actions

    func transition(req: Request) async throws -> Response {
        let appeal = try await Self.visibleAppeal(req)
        let form = try req.content.decode(TransitionForm.self)
        do {
            guard let input = form.input else { throw AppError.missing(field: "to") }
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
        let context: [String: Any?] = [
            "code": appeal.trackingCode, "received": f.dateTime(appeal.receivedAt), "registered": appeal.registeredAt.map { f.dateTime($0) },
            "controlDate": appeal.deadlines.controlDate.map { f.date($0) }, "office": office?.name,
        ]
        return req.page("slip", context.present)
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
