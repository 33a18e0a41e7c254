import Fluent
import OmbudDomain
import Vapor

struct AppealsController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let appeals = routes.grouped("appeals")
        appeals.post(use: create)
        appeals.get(use: list)
        appeals.get("by-code", ":code", use: byCode)
        appeals.get(":id", use: show)
        appeals.post(":id", "transitions", use: transition)
        appeals.post(":id", "extension", use: extend)
        appeals.get(":id", "history", use: history)
        appeals.post(":id", "questions", use: addQuestion)
        appeals.patch(":id", "questions", ":questionID", use: updateQuestion)
    }

    func create(req: Request) async throws -> Response {
        let actor = try req.actor
        let input = try req.content.decode(AppealInput.self)
        let validated: AppealIntake.Validated
        do { validated = try AppealIntake.validate(input, now: req.now) } catch { throw error.appError }
        let view = try await AppealIntake.create(validated, actor: actor, settings: req.settings, store: req.store,
                                                 queue: req.intake, now: req.now)
        let response = try await view.encodeResponse(status: .created, for: req)
        response.headers.replaceOrAdd(name: .location, value: "/api/v1/appeals/\(view.id)")
        return response
    }

    func list(req: Request) async throws -> AppealPage {
        _ = try req.actor
        let filters = try req.query.decode(AppealList.Filters.self)
        return try await AppealList.page(filters, settings: req.settings, db: req.db, now: req.now)
    }

    func show(req: Request) async throws -> AppealView {
        try await load(try appealID(req), req: req)
    }

    func byCode(req: Request) async throws -> AppealView {
        let raw = req.parameters.get("code") ?? ""
        guard let code = TrackingCode(raw) else { throw AppError.invalid(field: "trackingCode", reason: "expected YYYY-NNNNNN") }
        guard let appeal = try await Appeal.query(on: req.db).filter(\.$trackingCode == code.description).first() else {
            throw AppError.notFound(entity: "appeal", id: code.description)
        }
        return try await AppealQueries.view(appeal, actor: try req.actor, settings: req.settings, db: req.db, now: req.now)
    }

    func transition(req: Request) async throws -> AppealView {
        let id = try appealID(req)
        let input = try req.content.decode(TransitionInput.self)
        try await AppealTransitions.transition(appealID: id, input: input, actor: try req.actor, settings: req.settings,
                                               store: req.store, now: req.now)
        return try await load(id, req: req)
    }

    func extend(req: Request) async throws -> AppealView {
        let id = try appealID(req)
        let input = try req.content.decode(ExtensionInput.self)
        try await AppealTransitions.extend(appealID: id, input: input, actor: try req.actor, settings: req.settings,
                                           store: req.store, now: req.now)
        return try await load(id, req: req)
    }

    func history(req: Request) async throws -> [HistoryView] {
        let id = try appealID(req)
        guard try await Appeal.find(id, on: req.db) != nil else { throw AppError.notFound(entity: "appeal", id: id.uuidString) }
        let entries = try await HistoryEntry.query(on: req.db).group(.or) { $0.filter(\.$appealID == id).filter(\.$entityID == id) }
            .sort(\.$at).all()
        return entries.map(HistoryView.init)
    }

    func addQuestion(req: Request) async throws -> Response {
        let id = try appealID(req)
        let input = try req.content.decode(QuestionInput.self)
        try await QuestionEditing.add(appealID: id, input: input, actor: try req.actor, store: req.store, now: req.now)
        return try await load(id, req: req).encodeResponse(status: .created, for: req)
    }

    func updateQuestion(req: Request) async throws -> AppealView {
        let id = try appealID(req)
        guard let questionID = req.parameters.get("questionID", as: UUID.self) else {
            throw AppError.notFound(entity: "question", id: req.parameters.get("questionID") ?? "")
        }
        let input = try req.content.decode(QuestionUpdate.self)
        try await QuestionEditing.update(appealID: id, questionID: questionID, input: input, actor: try req.actor,
                                         store: req.store, now: req.now)
        return try await load(id, req: req)
    }

    private func appealID(_ req: Request) throws -> UUID {
        guard let id = req.parameters.get("id", as: UUID.self) else {
            throw AppError.notFound(entity: "appeal", id: req.parameters.get("id") ?? "")
        }
        return id
    }

    private func load(_ id: UUID, req: Request) async throws -> AppealView {
        guard let appeal = try await Appeal.find(id, on: req.db) else { throw AppError.notFound(entity: "appeal", id: id.uuidString) }
        return try await AppealQueries.view(appeal, actor: try req.actor, settings: req.settings, db: req.db, now: req.now)
    }
}
