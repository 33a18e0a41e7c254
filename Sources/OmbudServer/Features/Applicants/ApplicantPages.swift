import Fluent
import Foundation
import OmbudDomain
import Vapor

/// The applicant card: contacts, segmentation, every appeal and promise, and the cards that look like the same person,
/// each with a button that merges it into this one.
struct ApplicantPages: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let pages = routes.grouped(PageGuard(), RememberLanguage()).grouped("applicants")
        pages.grouped(Require(.applicantsRead)).get(":id", use: show)
        pages.grouped(Require(.applicantsEdit), Require(.personalData)).post(":id", "merge", use: merge)
    }

    func show(req: Request) async throws -> Response {
        let applicant = try await Self.applicant(req)
        if let into = applicant.mergedIntoID { return req.redirect(to: "/applicants/\(into.uuidString)", redirectType: .normal) }
        return try await Self.page(req, applicant: applicant,
                                   notice: req.query[String.self, at: "merged"] != nil ? req.text("applicant", "merged") : nil)
    }

    func merge(req: Request) async throws -> Response {
        let applicant = try await Self.applicant(req)
        let duplicate = (try? req.content.get(String.self, at: "duplicateId")).flatMap(UUID.init(uuidString:))
        do {
            guard let duplicate else { throw AppError.missing(field: "duplicateId") }
            _ = try await req.mergeVisible(keep: try applicant.requireID(), absorb: duplicate)
        } catch let error as AppError {
            return try await Self.page(req, applicant: applicant, error: req.message(error), status: error.status)
        }
        return req.redirect(to: "/applicants/\(try applicant.requireID().uuidString)?merged=1", redirectType: .normal)
    }

    static func applicant(_ req: Request) async throws -> Applicant {
        try await req.visibleApplicant(req.parameters.get("id", as: UUID.self))
    }

    static func page(_ req: Request, applicant: Applicant, notice: String? = nil, error: String? = nil,
                     status: HTTPResponseStatus = .ok) async throws -> Response {
        let actor = try req.actor
        let card = try await ApplicantsController.card(applicant, req: req)
        let a = card.applicant
        if !a.masked {
            try await req.audit("personal-data.view", entity: "applicant", entityID: a.id.uuidString, details: a.fullName)
        }
        let f = req.format
        let zone = req.settings.timeZone
        var duplicates: [[String: Any]] = []
        if !a.masked, actor.can(.applicantsEdit), actor.can(.personalData) {
            let probe = ApplicantInput(surname: applicant.surname, name: applicant.name, patronymic: applicant.patronymic,
                                       organisationName: applicant.organisationName, phones: applicant.phones, emails: applicant.emails,
                                       postalAddress: applicant.postalAddress)
            // Only cards the reader may see can be offered for a merge.
            let found = try await ApplicantSearch.duplicates(of: probe, excluding: applicant.id, db: req.db)
            let visible = try await req.applicantAccess().visible(found.map(\.applicant.id), db: req.db)
            duplicates = found.filter { visible.contains($0.applicant.id) }.map { candidate in
                let d = candidate.applicant
                return [
                    "id": d.id.uuidString, "name": d.fullName, "where": d.postalAddress,
                    "contacts": (d.phones + d.emails).isEmpty ? nil : (d.phones + d.emails).joined(separator: ", "),
                    "reasons": candidate.reasons.map { req.text("duplicateReasons", $0) }.joined(separator: ", "),
                ].present
            }
        }
        let context: [String: Any?] = [
            "id": a.id.uuidString, "name": a.fullName, "masked": a.masked, "kind": req.catalogued("applicantKinds", a.kind),
            "cardId": a.id.uuidString, "phones": a.phones, "hasPhones": !a.phones.isEmpty, "emails": a.emails, "hasEmails": !a.emails.isEmpty,
            "postal": a.postalAddress,
            "segments": [("socialStatus", card.socialStatus), ("territory", card.territory), ("audience", card.audience),
                         ("contactSource", card.contactSource)].compactMap { key, value in
                value.map { ["label": req.text("applicant", key), "value": $0] }
            },
            "links": card.socialLinks, "hasLinks": !card.socialLinks.isEmpty,
            "appeals": card.appeals.map { item in
                ["code": item.trackingCode, "status": req.text("states", item.status), "statusKey": item.status,
                 "received": f.date(CivilDate.of(item.receivedAt, in: zone)), "overdue": item.overdue, "excerpt": item.excerpt]
            },
            "promises": card.promises.map { p in
                ["text": p.text, "due": CivilDate(iso: p.dueDate).map { f.date($0) } ?? p.dueDate, "status": req.text("promiseStatus", p.status),
                 "overdue": p.overdue, "code": p.trackingCode].present
            },
            "duplicates": duplicates, "hasDuplicates": !duplicates.isEmpty, "notice": notice, "error": error,
        ]
        return req.page("applicant", context.present, status: status)
    }
}
