import Fluent
import Foundation
import OmbudDomain

/// Changing an applicant card: every changed field goes to the history, contacts are re-keyed for duplicate search.
enum ApplicantUpdate {
    static func apply(id: UUID, input: ApplicantInput, actor: Actor, store: Store, now: Date) async throws -> Applicant {
        try await store.write { db in
            let applicant = try await ApplicantMerging.current(id, db: db)
            // Validate the card as it will be after the change, so a patch cannot leave it invalid.
            let merged = ApplicantInput(
                kind: input.kind ?? applicant.kind, surname: input.surname ?? applicant.surname, name: input.name ?? applicant.name,
                patronymic: input.patronymic ?? applicant.patronymic, organisationName: input.organisationName ?? applicant.organisationName,
                phones: input.phones ?? input.phone.map { [$0] } ?? applicant.phones,
                emails: input.emails ?? input.email.map { [$0] } ?? applicant.emails,
                postalAddress: input.postalAddress ?? applicant.postalAddress, socialStatus: input.socialStatus ?? applicant.socialStatus,
                territory: input.territory ?? applicant.territory, audience: input.audience ?? applicant.audience,
                socialLinks: input.socialLinks ?? applicant.socialLinks, contactSource: input.contactSource ?? applicant.contactSource,
                publicityConsent: input.publicityConsent ?? applicant.publicityConsent)
            let v: ApplicantStore.Validated
            do throws(ValidationError) { v = try ApplicantStore.validate(merged, field: "applicant") } catch { throw error.appError }
            try await save(applicant, as: v, db: db, history: HistoryRecorder(db: db, actor: actor, at: now))
            return applicant
        }
    }

    /// Writes `v` over the card: every changed field to the history, contacts re-keyed, the appeals' search text
    /// refreshed when the name changed.
    static func save(_ applicant: Applicant, as v: ApplicantStore.Validated, db: any Database, history: HistoryRecorder,
                      note: HistoryText? = nil) async throws {
        let id = try applicant.requireID()
        let changes: [(String, String?, String?)] = [
            ("kind", applicant.kind, v.kind.rawValue), ("surname", applicant.surname, v.surname), ("name", applicant.name, v.name),
            ("patronymic", applicant.patronymic, v.patronymic), ("organisationName", applicant.organisationName, v.organisationName),
            ("phones", applicant.phones.joined(separator: ", "), v.phones.joined(separator: ", ")),
            ("emails", applicant.emails.joined(separator: ", "), v.emails.joined(separator: ", ")),
            ("postalAddress", applicant.postalAddress, v.postalAddress), ("socialStatus", applicant.socialStatus, v.socialStatus),
            ("territory", applicant.territory, v.territory), ("audience", applicant.audience, v.audience),
            ("socialLinks", applicant.socialLinks.joined(separator: ", "), v.socialLinks.joined(separator: ", ")),
            ("contactSource", applicant.contactSource, v.contactSource),
            ("publicityConsent", String(applicant.publicityConsent), String(v.publicityConsent)),
        ]
        let oldName = applicant.fullName
        ApplicantStore.fill(applicant, from: v)
        applicant.updatedAt = history.at
        try await applicant.save(on: db)
        try await ApplicantContact.query(on: db).filter(\.$applicant.$id == id).delete()
        try await ApplicantStore.storeContacts(of: applicant, db: db)
        if applicant.fullName != oldName { try await AppealSearch.refresh(appealsOf: applicant, db: db) }
        try await history.changes(entity: "applicant", id: id, appealID: nil, changes, note: note)
    }
}
