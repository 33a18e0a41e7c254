import Fluent
import Foundation
import OmbudDomain
import Vapor

/// The card's own forms besides the moves: a note between staff, an extension of the deadline, a promise to the
/// applicant, and the call-back's verdict. Each posts, and the card comes back with the error next to the form.
extension AppealPages {
    func bootForms(_ pages: any RoutesBuilder) {
        pages.grouped(Require(.appealsEdit)).post(":code", "notes", use: note)
        pages.grouped(Require(.appealsEdit)).post(":code", "extension", use: extend)
        pages.grouped(Require(.appealsEdit)).post(":code", "promises", use: promise)
        pages.grouped(Require(.appealsTransition)).post(":code", "feedback", use: callBack)
        pages.grouped(Require(.appealsEdit), Require(.appealsTransition)).post(":code", "on-the-spot", use: onTheSpot)
    }

    static let maxNote = 4_000

    /// A note for colleagues: kept in the history (no one edits or removes it), shown on the card.
    func note(req: Request) async throws -> Response {
        let appeal = try await Self.visibleAppeal(req)
        struct Form: Content { var text: String? }
        let form = try req.content.decode(Form.self)
        return try await Self.submit(req, appeal, anchor: "history") {
            let text: String
            do throws(ValidationError) { text = try Validate.text(form.text, field: "note", max: Self.maxNote) ?? "" } catch { throw error.appError }
            let appealID = try appeal.requireID(), actor = try req.actor, now = req.now
            try await req.store.write { db in
                try await HistoryRecorder(db: db, actor: actor, at: now)
                    .record(entity: "appeal", id: appealID, appealID: appealID, action: "note", comment: text)
            }
        }
    }

    func extend(req: Request) async throws -> Response {
        let appeal = try await Self.visibleAppeal(req)
        struct Form: Content { var days: String?; var reason: String? }
        let form = try req.content.decode(Form.self)
        return try await Self.submit(req, appeal, anchor: "control-date") {
            guard let raw = form.days.nonBlank else { throw AppError.missing(field: "days") }
            guard let days = Int(TextNormalizer.latinDigits(raw)) else { throw AppError.invalid(field: "days", reason: "a whole number of days") }
            guard let reason = form.reason.nonBlank else { throw AppError.missing(field: "reason") }
            try await AppealTransitions.extend(appealID: appeal.requireID(), input: ExtensionInput(days: days, reason: reason), actor: try req.actor,
                                               settings: req.settings, store: req.store, now: req.now)
        }
    }

    func promise(req: Request) async throws -> Response {
        let appeal = try await Self.visibleAppeal(req)
        let form = try req.content.decode(PromiseInput.self)
        return try await Self.submit(req, appeal, anchor: "promises") {
            _ = try await PromisesController.make(appealID: appeal.requireID(), input: form, req: req)
        }
    }

    func callBack(req: Request) async throws -> Response {
        let appeal = try await Self.visibleAppeal(req)
        struct Form: Content { var satisfied: String?; var comment: String?; var score: String? }
        let form = try req.content.decode(Form.self)
        return try await Self.submit(req, appeal, anchor: "actions") {
            let score: Int?
            if let raw = form.score.nonBlank {
                guard let value = Int(TextNormalizer.latinDigits(raw)) else { throw AppError.invalid(field: "score", reason: "must be 1 to 5") }
                score = value
            } else { score = nil }
            var satisfied: Bool?
            if let raw = form.satisfied.nonBlank {
                guard ["yes", "no"].contains(raw) else { throw AppError.invalid(field: "satisfied", reason: "say yes or no") }
                satisfied = raw == "yes"
            }
            try await CallBacks.record(appealID: appeal.requireID(), input: CallBacks.Input(satisfied: satisfied, comment: form.comment, score: score),
                                       actor: try req.actor, settings: req.settings, store: req.store, now: req.now)
        }
    }

    /// Answered on the spot ("137"'s information calls): the answer given to every question as explained, and the
    /// appeal closed — one step for the operator instead of the whole written path.
    func onTheSpot(req: Request) async throws -> Response {
        let appeal = try await Self.visibleAppeal(req)
        struct Form: Content { var answerText: String? }
        let form = try req.content.decode(Form.self)
        return try await Self.submit(req, appeal, anchor: "history") {
            let text: String
            do throws(ValidationError) { text = try Validate.text(form.answerText, field: "answerText") ?? "" } catch { throw error.appError }
            let id = try appeal.requireID(), actor = try req.actor
            // The move is checked first: only a registered appeal, and a role that may close it; otherwise nothing changes.
            guard appeal.status == "registered" else {
                throw AppError.conflict(code: "transition-not-allowed", reason: "only a registered appeal is answered on the spot", field: "answerText")
            }
            guard WorkflowEngine.allowedTargets(AppealTransitions.workflow, from: appeal.status, roles: actor.roles).contains("closed") else {
                throw AppError(WorkflowError.roleNotPermitted(to: "closed"))
            }
            for question in try await Question.query(on: req.db).filter(\.$appeal.$id == id).all() where question.result.flatMap(QuestionResult.init(rawValue:))?.isFinal != true {
                try await QuestionEditing.update(appealID: id, questionID: question.requireID(),
                                                 input: QuestionUpdate(result: QuestionResult.explained.rawValue, answerText: text),
                                                 actor: actor, store: req.store, now: req.now)
            }
            try await AppealTransitions.transition(appealID: id, input: TransitionInput(to: "closed", comment: text), actor: actor,
                                                   settings: req.settings, store: req.store, now: req.now)
        }
    }

    /// Runs a form's action: the card at `anchor` after it, or the card again with the error that refused it.
    static func submit(_ req: Request, _ appeal: Appeal, anchor: String, _ action: () async throws -> Void) async throws -> Response {
        do {
            try await action()
        } catch let error as AppError {
            guard let fresh = try await Appeal.find(appeal.id, on: req.db) else { throw error }
            return try await cardPage(req, appeal: fresh, error: req.message(error), errorField: error.field, status: error.status)
        }
        return req.redirect(to: "/appeals/\(appeal.trackingCode)#\(anchor)", redirectType: .normal)
    }
}
