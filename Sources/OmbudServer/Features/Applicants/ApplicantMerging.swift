import Fluent
import Foundation
import OmbudDomain
import SQLKit

/// Merging two cards of one person (`ApplicantMerge` decides what the kept card becomes). The absorbed card stays, with
/// its history, pointing at the kept one; its appeals, co-applications and contacts move over in the same transaction.
enum ApplicantMerging {
    /// A card that can still change: 404 when unknown, 409 (naming the card it became) when merged away.
    static func current(_ id: UUID, db: any Database) async throws -> Applicant {
        guard let applicant = try await Applicant.find(id, on: db) else { throw AppError.notFound(entity: "applicant", id: id.uuidString) }
        if let into = applicant.mergedIntoID {
            throw AppError.conflict(code: "merged", reason: "this card was merged into applicant \(into.uuidString)", field: nil)
        }
        return applicant
    }

    static func merge(keep keepID: UUID, absorb absorbID: UUID, actor: Actor, store: Store, now: Date) async throws -> Applicant {
        guard keepID != absorbID else { throw AppError.invalid(field: "duplicateId", reason: "is this card itself") }
        return try await store.write { db in
            let keep = try await current(keepID, db: db)
            guard let absorb = try await Applicant.find(absorbID, on: db) else { throw AppError.notFound(entity: "applicant", id: absorbID.uuidString) }
            if let into = absorb.mergedIntoID {
                throw AppError.conflict(code: "merged", reason: "the duplicate was already merged into applicant \(into.uuidString)", field: "duplicateId")
            }
            let merged: ApplicantMerge.Card
            do throws(ApplicantMerge.Refusal) { merged = try ApplicantMerge.merged(keep: card(keep), absorb: card(absorb)) } catch {
                throw AppError.invalid(field: "duplicateId", reason: "a person and an organisation cannot be merged")
            }
            let validated: ApplicantStore.Validated
            do throws(ValidationError) { validated = try ApplicantStore.validate(input(merged), field: "applicant") } catch { throw error.appError }
            let history = HistoryRecorder(db: db, actor: actor, at: now)
            let note = HistoryText(key: "mergedWith", params: ["name": absorb.fullName])
            try await ApplicantUpdate.save(keep, as: validated, db: db, history: history, note: note)

            let sql = db as! any SQLDatabase
            // Co-applications of the absorbed card on appeals the kept card already belongs to would be doubles.
            let keptAppeals = try await Appeal.query(on: db).filter(\.$applicant.$id == keepID).all(\.$id)
                + CoApplicant.query(on: db).filter(\.$applicant.$id == keepID).all().map(\.$appeal.id)
            if !keptAppeals.isEmpty {
                try await CoApplicant.query(on: db).filter(\.$applicant.$id == absorbID).filter(\.$appeal.$id ~~ keptAppeals).delete()
            }
            try await sql.update(CoApplicant.schema).set("applicant_id", to: keepID).where("applicant_id", .equal, absorbID).run()
            let moved = try await Appeal.query(on: db).filter(\.$applicant.$id == absorbID).all()
            for appeal in moved {
                appeal.$applicant.id = keepID
                appeal.searchText = AppealSearch.document(appeal, applicantName: keep.fullName)
                try await appeal.save(on: db)
                try await history.record(entity: "appeal", id: appeal.requireID(), appealID: appeal.requireID(), action: "update", field: "applicant",
                                         from: absorb.fullName, to: keep.fullName, note: HistoryText(key: "cardsMerged"))
            }
            // An appeal of the absorbed card on which the kept card was a co-applicant now has it as its applicant.
            if !moved.isEmpty {
                try await CoApplicant.query(on: db).filter(\.$applicant.$id == keepID).filter(\.$appeal.$id ~~ moved.map { try $0.requireID() }).delete()
            }
            try await ApplicantContact.query(on: db).filter(\.$applicant.$id == absorbID).delete()
            absorb.mergedIntoID = keepID
            absorb.updatedAt = now
            try await absorb.save(on: db)
            try await history.record(entity: "applicant", id: keepID, appealID: nil, action: "merge", comment: absorbID.uuidString, note: note)
            try await history.record(entity: "applicant", id: absorbID, appealID: nil, action: "merged-into",
                                     to: keep.fullName, comment: keepID.uuidString)
            return keep
        }
    }

    static func card(_ a: Applicant) -> ApplicantMerge.Card {
        ApplicantMerge.Card(kind: a.kind, surname: a.surname, name: a.name, patronymic: a.patronymic, organisationName: a.organisationName,
                            phones: a.phones, emails: a.emails, postalAddress: a.postalAddress, socialStatus: a.socialStatus,
                            territory: a.territory, audience: a.audience, contactSource: a.contactSource, socialLinks: a.socialLinks,
                            publicityConsent: a.publicityConsent)
    }

    static func input(_ c: ApplicantMerge.Card) -> ApplicantInput {
        ApplicantInput(kind: c.kind, surname: c.surname, name: c.name, patronymic: c.patronymic, organisationName: c.organisationName,
                       phones: c.phones, emails: c.emails, postalAddress: c.postalAddress, socialStatus: c.socialStatus,
                       territory: c.territory, audience: c.audience, socialLinks: c.socialLinks, contactSource: c.contactSource,
                       publicityConsent: c.publicityConsent)
    }
}
