import Fluent
import Foundation
import OmbudDomain
import Vapor

/// The appeals of a bulk move; the move itself is a `TransitionForm` in the same body.
struct BulkTransitionInput: Content {
    /// Appeal ids or tracking codes, at most `BulkTransitions.maximum`.
    var appeals: [String]?
}

struct BulkTransitionResult: Content {
    var appeal: String
    var trackingCode: String?
    var ok: Bool
    var error: String?
    var reason: String?
    var field: String?
}

struct BulkTransitionReport: Content {
    var done: Int
    var refused: Int
    var results: [BulkTransitionResult]
}

/// One move for several appeals ("assign these twelve to the roads department, with this comment"). Each appeal is
/// moved on its own, by the same rules as one at a time; one refused does not stop the others, and the report says
/// which went and why the others did not.
enum BulkTransitions {
    static let maximum = 200

    /// The appeals and the move, both read from the request's body (JSON or a form).
    static func run(req: Request) async throws -> BulkTransitionReport {
        let refs = (try req.content.decode(BulkTransitionInput.self).appeals ?? []).map { TextNormalizer.latinDigits($0.trimmed()) }.filter { !$0.isEmpty }
        guard !refs.isEmpty else { throw AppError.missing(field: "appeals") }
        guard refs.count <= maximum else { throw AppError.invalid(field: "appeals", reason: "at most \(maximum) appeals at once") }
        guard let transition = try req.content.decode(TransitionForm.self).input else { throw AppError.missing(field: "to") }
        let actor = try req.actor
        var results: [BulkTransitionResult] = []
        var seen = Set<String>()
        for ref in refs where seen.insert(ref).inserted {
            var code: String?
            do {
                let id = try await req.resolveAppeal(ref, field: "appeals")
                code = try await AppealQueries.trackingCodes([id], db: req.db)[id]
                try await AppealTransitions.transition(appealID: id, input: transition, actor: actor, settings: req.settings,
                                                       store: req.store, now: req.now)
                results.append(BulkTransitionResult(appeal: ref, trackingCode: code, ok: true))
            } catch let error as AppError {
                // An appeal outside the reader's scope is reported like an unknown one.
                results.append(BulkTransitionResult(appeal: ref, trackingCode: code, ok: false, error: error.code, reason: error.reason,
                                                    field: error.field))
            }
        }
        let done = results.filter(\.ok).count
        return BulkTransitionReport(done: done, refused: results.count - done, results: results)
    }
}
