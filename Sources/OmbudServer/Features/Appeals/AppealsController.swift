import Fluent
import OmbudDomain
import Vapor

struct AppealsController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let appeals = routes.grouped("appeals")
        appeals.grouped(Require(.appealsCreate)).post(use: create)
        let read = appeals.grouped(Require(.appealsRead))
        read.get(use: list)
        read.get("by-code", ":code", use: byCode)
        read.get(":id", use: show)
        read.get(":id", "history", use: history)
        read.get(":id", "correspondence", use: correspondence)
        appeals.grouped(Require(.appealsTransition)).post(":id", "transitions", use: transition)
        appeals.grouped(Require(.appealsTransition)).post("bulk-transitions", use: bulkTransition)
        appeals.grouped(Require(.appealsTransition)).post(":id", "feedback", use: feedback)
        let edit = appeals.grouped(Require(.appealsEdit))
        edit.post(":id", "extension", use: extend)
        edit.post(":id", "questions", use: addQuestion)
        edit.patch(":id", "questions", ":questionID", use: updateQuestion)
    }

    func create(req: Request) async throws -> Response {
        let actor = try req.actor
        var input = try req.content.decode(AppealInput.self)
        input.address = try await AddressRegister.complete(input.address, db: req.db)
        let validated: AppealIntake.Validated
        do { validated = try AppealIntake.validate(input, now: req.now) } catch { throw error.appError }
        let view = try await AppealIntake.create(validated, actor: actor, settings: req.settings, store: req.store,
                                                 queue: req.intake, now: req.now, translate: TaskViews.translator(req))
        let response = try await view.encodeResponse(status: .created, for: req)
        response.headers.replaceOrAdd(name: .location, value: "/api/v1/appeals/\(view.id)")
        return response
    }

    func list(req: Request) async throws -> Response {
        let filters = try req.query.decode(AppealList.Filters.self)
        if let format = try ListExports.format(req) { return try await ListExports.appeals(req, filters, format: format) }
        let scope = try await req.appealCondition()
        return try await AppealList.page(filters, scope: scope, personal: try req.actor.can(.personalData), hidden: req.hiddenMark, settings: req.settings, db: req.db, now: req.now)
            .encodeResponse(for: req)
    }

    func show(req: Request) async throws -> AppealView {
        let view = try await load(try req.appealIDParameter(), req: req)
        try await auditView(view, req: req)
        return view
    }

    /// Opening a card that shows an applicant's personal data is itself recorded.
    private func auditView(_ view: AppealView, req: Request) async throws {
        guard let applicant = view.applicant, !applicant.masked else { return }
        try await req.audit("personal-data.view", entity: "appeal", entityID: view.id.uuidString, details: view.trackingCode)
    }

    func byCode(req: Request) async throws -> AppealView {
        let raw = req.parameters.get("code") ?? ""
        guard let code = TrackingCode(raw) else { throw AppError.invalid(field: "trackingCode", reason: "expected YYYY-NNNNNN") }
        guard let appeal = try await Appeal.query(on: req.db).filter(\.$trackingCode == code.description).first(),
              try await req.maySee(appeal, in: try await req.accessScope()) else {
            throw AppError.notFound(entity: "appeal", id: code.description)
        }
        let view = try await card(appeal, req: req)
        try await auditView(view, req: req)
        return view
    }

    func bulkTransition(req: Request) async throws -> BulkTransitionReport {
        try await BulkTransitions.run(req: req)
    }

    func transition(req: Request) async throws -> AppealView {
        let id = try await req.visibleAppealID()
        let input = try req.content.decode(TransitionInput.self)
        try await AppealTransitions.transition(appealID: id, input: input, actor: try req.actor, settings: req.settings,
                                               store: req.store, now: req.now)
        return try await load(id, req: req)
    }

    /// The call-back's verdict (`CallBacks`).
    func feedback(req: Request) async throws -> AppealView {
        let id = try await req.visibleAppealID()
        let input = try req.content.decode(CallBacks.Input.self)
        try await CallBacks.record(appealID: id, input: input, actor: try req.actor, settings: req.settings, store: req.store, now: req.now)
        return try await load(id, req: req)
    }

    func extend(req: Request) async throws -> AppealView {
        let id = try await req.visibleAppealID()
        let input = try req.content.decode(ExtensionInput.self)
        try await AppealTransitions.extend(appealID: id, input: input, actor: try req.actor, settings: req.settings,
                                           store: req.store, now: req.now)
        return try await load(id, req: req)
    }

    func history(req: Request) async throws -> [HistoryView] {
        let appeal = try await req.visibleAppeal(try req.appealIDParameter())
        let id = try appeal.requireID()
        let entries = try await HistoryEntry.query(on: req.db).group(.or) { $0.filter(\.$appealID == id).filter(\.$entityID == id) }
            .sort(\.$at).all()
        let redact = try await req.redaction(for: appeal)
        let hidden = req.hiddenMark
        return try entries.map { entry in
            var view = try HistoryView(entry).redacted(redact, hidden: hidden)
            view.noteText = view.noteKey.map { req.historyNote(key: $0, params: view.noteParams ?? [:]) }
            return view
        }
    }

    /// The messages in and out, oldest first; who wrote, to whom and the network link are personal data, masked for
    /// readers without the personal-data permission and audited for those with it.
    func correspondence(req: Request) async throws -> [CorrespondenceView] {
        let appeal = try await req.visibleAppeal(try req.appealIDParameter())
        let id = try appeal.requireID()
        let rows = try await CorrespondenceRecord.query(on: req.db).filter(\.$appealID == id).sort(\.$at).all()
        let personal = try req.actor.can(.personalData)
        if personal, !rows.isEmpty {
            try await req.audit("personal-data.view", entity: "appeal", entityID: id.uuidString, details: "correspondence")
        }
        let redact = try await req.redaction(for: appeal)
        return try rows.map { try CorrespondenceView($0, personal: personal).redacted(redact) }
    }

    func addQuestion(req: Request) async throws -> Response {
        let id = try await req.visibleAppealID()
        let input = try req.content.decode(QuestionInput.self)
        try await QuestionEditing.add(appealID: id, input: input, actor: try req.actor, store: req.store, now: req.now)
        return try await load(id, req: req).encodeResponse(status: .created, for: req)
    }

    func updateQuestion(req: Request) async throws -> AppealView {
        let id = try await req.visibleAppealID()
        guard let questionID = req.parameters.get("questionID", as: UUID.self) else {
            throw AppError.notFound(entity: "question", id: req.parameters.get("questionID") ?? "")
        }
        let input = try req.content.decode(QuestionUpdate.self)
        try await QuestionEditing.update(appealID: id, questionID: questionID, input: input, actor: try req.actor,
                                         store: req.store, now: req.now)
        return try await load(id, req: req)
    }

    /// The id of an appeal the actor may see; 404 otherwise.
    private func load(_ id: UUID, req: Request) async throws -> AppealView {
        try await card(try await req.visibleAppeal(id), req: req)
    }

    /// The appeal with its tasks and promises, as the card shows it.
    private func card(_ appeal: Appeal, req: Request) async throws -> AppealView {
        var view = try await AppealQueries.view(appeal, actor: try req.actor, settings: req.settings, hidden: req.hiddenMark, db: req.db, now: req.now)
        let views = TaskViews(req: req)
        view.tasks = try await views.tasks(TaskRecord.query(on: req.db).filter(\.$appeal.$id == appeal.requireID()).sort(\.$enteredAt).all(), now: req.now)
        view.promises = try await views.promises(PromiseRecord.query(on: req.db).filter(\.$appeal.$id == appeal.requireID()).sort(\.$createdAt).all(),
                                                 today: CivilDate.of(req.now, in: req.settings.timeZone))
        return view
    }
}
