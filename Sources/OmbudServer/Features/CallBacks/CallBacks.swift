import Fluent
import Foundation
import OmbudDomain
import Vapor

/// The call-back after an answer ("137"): the responder calls the citizen and records whether they are satisfied.
/// Satisfied closes the appeal (through "feedback received"); not satisfied sends it back to the executor with the
/// reason. `POST /api/v1/appeals/{id}/feedback {"satisfied", "comment", "score"?}` and the form on the card.
enum CallBacks {
    struct Input: Content {
        var satisfied: Bool?
        var comment: String?
        var score: Int?
    }

    static func record(appealID: UUID, input: Input, actor: Actor, settings: Settings, store: Store, now: Date) async throws {
        let verdict: CallBack.Verdict
        do throws(ValidationError) { verdict = try CallBack.Verdict(satisfied: input.satisfied, comment: input.comment, score: input.score) }
        catch { throw error.appError }
        guard let appeal = try await Appeal.find(appealID, on: store.db) else { throw AppError.notFound(entity: "appeal", id: appealID.uuidString) }
        guard let steps = CallBack.moves(from: appeal.status, satisfied: verdict.satisfied) else {
            throw AppError.conflict(code: "no-call-back", reason: "the appeal is not waiting for a call-back (it is \(appeal.status))", field: "satisfied")
        }
        // Every move is checked before the first is made: a responder who may not close gets a refusal, not half a call.
        let workflow = AppealTransitions.workflow
        var state = appeal.status
        for step in steps {
            guard WorkflowEngine.allowedTargets(workflow, from: state, roles: actor.roles).contains(step) else {
                throw AppError(WorkflowError.roleNotPermitted(to: step))
            }
            state = step
        }
        // The moves come first, each checked again in its own transaction: a second responder (or the portal's rating)
        // that finds the appeal moved already is refused there, before a second call is recorded.
        for step in steps {
            try await AppealTransitions.transition(appealID: appealID, input: TransitionInput(to: step, comment: verdict.comment, reason: verdict.comment),
                                                   actor: actor, settings: settings, store: store, now: now)
        }
        let note = HistoryText(key: verdict.satisfied ? "callBackSatisfied" : "callBackNotSatisfied")
        try await store.write { db in
            try await HistoryRecorder(db: db, actor: actor, at: now)
                .record(entity: "appeal", id: appealID, appealID: appealID, action: "call-back", field: "feedback",
                        to: verdict.score.map { "\($0)/5" }, comment: verdict.comment, note: note)
            guard let score = verdict.score else { return }
            let row = AppealRating()
            row.id = UUID.timeOrdered(at: now)
            row.appealID = appealID
            row.score = score
            row.comment = verdict.comment
            row.solved = verdict.satisfied
            row.source = "phone"
            row.at = now
            try await row.create(on: db)
        }
    }
}
