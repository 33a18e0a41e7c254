import Fluent
import Foundation
import OmbudDomain
import SQLKit
import Vapor

/// Whose applicant cards a user may read and change: a card belongs to the appeals it is on, so it is visible to
/// whoever can see one of those appeals (as applicant or co-applicant), and to whoever made it. Outside that, a card
/// answers exactly like an unknown one; intake may still say that a person already has a card, showing nothing of it.
struct ApplicantAccess: Sendable {
    let scope: AccessScope
    let user: UUID

    /// The rule as a condition on `applicants` rows; nil when every card is visible.
    var condition: (any SQLExpression)? {
        guard let appeals = AccessSQL.condition(scope, user: user) else { return nil }
        let made: SQLQueryString = """
            EXISTS (SELECT 1 FROM history h WHERE h.entity = 'applicant' AND h.entity_id = applicants.id AND h.action = 'create' \
            AND h.actor_id = \(bind: user))
            """
        let own: SQLQueryString = "EXISTS (SELECT 1 FROM appeals WHERE appeals.applicant_id = applicants.id AND \(appeals))"
        let co: SQLQueryString = """
            EXISTS (SELECT 1 FROM appeal_co_applicants c JOIN appeals ON appeals.id = c.appeal_id \
            WHERE c.applicant_id = applicants.id AND \(appeals))
            """
        return SQLGroupExpression(SQLList([own, co, made], separator: SQLRaw(" OR ")))
    }

    /// Those of `ids` the user may see.
    func visible(_ ids: [UUID], db: any Database) async throws -> Set<UUID> {
        guard !ids.isEmpty else { return [] }
        guard let condition else { return Set(ids) }
        let rows = try await Applicant.query(on: db).filter(\.$id ~~ Array(Set(ids))).filter(.sql(condition)).all(\.$id)
        return Set(rows)
    }

    func allows(_ id: UUID, db: any Database) async throws -> Bool {
        try await visible([id], db: db).contains(id)
    }
}

extension Request {
    func applicantAccess() async throws -> ApplicantAccess {
        ApplicantAccess(scope: try await accessScope(), user: try actor.userID)
    }

    /// The card if the actor may see it; otherwise 404 exactly like an unknown id.
    func visibleApplicant(_ id: UUID?) async throws -> Applicant {
        guard let id, let applicant = try await Applicant.find(id, on: db), try await applicantAccess().allows(id, db: db) else {
            throw AppError.notFound(entity: "applicant", id: id?.uuidString ?? parameters.get("id") ?? "")
        }
        return applicant
    }

    /// Merges `absorb` into `keep` (a card the caller sees): another unit's card answers like an unknown one.
    func mergeVisible(keep: UUID, absorb: UUID) async throws -> Applicant {
        guard try await applicantAccess().allows(absorb, db: db) else { throw AppError.notFound(entity: "applicant", id: absorb.uuidString) }
        return try await ApplicantMerging.merge(keep: keep, absorb: absorb, actor: try actor, store: store, now: now)
    }
}

extension ApplicantSummary {
    /// A card the reader may not see, as intake may mention it: that it exists, nothing of the person.
    var hidden: ApplicantSummary {
        ApplicantSummary(id: id, kind: kind, fullName: PersonalDataMask.maskedName, phones: [], emails: [], publicityConsent: false, masked: true)
    }
}
