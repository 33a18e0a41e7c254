import Fluent
import OmbudDomain
import SQLKit
import Vapor

struct ApplicantCard: Content {
    var applicant: ApplicantSummary
    var socialStatus: String?
    var territory: String?
    var audience: String?
    var socialLinks: [String]
    var contactSource: String?
    var appeals: [AppealListItem]
    /// Promises given on those appeals.
    var promises: [PromiseView]
    /// Set when this card was merged into another: that card holds the appeals now.
    var mergedInto: UUID?
}

struct MergeInput: Content {
    var duplicateId: UUID?
}

struct DuplicateCandidate: Content {
    var applicant: ApplicantSummary
    var reasons: [String]
}

struct ApplicantsController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let applicants = routes.grouped("applicants")
        let edit = applicants.grouped(Require(.applicantsEdit))
        edit.post(use: create)
        edit.patch(":id", use: update)
        edit.grouped(Require(.personalData)).post(":id", "merge", use: merge)
        let read = applicants.grouped(Require(.applicantsRead))
        read.get(use: search)
        read.get("duplicates", use: duplicates)
        read.get(":id", use: show)
        // The history holds old names and contacts in clear.
        read.grouped(Require(.personalData)).get(":id", "history", use: history)
    }

    /// `POST /applicants/{id}/merge` with `{"duplicateId"}`: the duplicate's appeals and data go to this card.
    func merge(req: Request) async throws -> ApplicantCard {
        let id = try await req.visibleApplicant(req.parameters.get("id", as: UUID.self)).requireID()
        guard let duplicate = try req.content.decode(MergeInput.self).duplicateId else { throw AppError.missing(field: "duplicateId") }
        let kept = try await req.mergeVisible(keep: id, absorb: duplicate)
        return try await Self.card(kept, req: req)
    }

    func update(req: Request) async throws -> ApplicantCard {
        let actor = try req.actor
        let id = try await req.visibleApplicant(req.parameters.get("id", as: UUID.self)).requireID()
        let applicant = try await ApplicantUpdate.apply(id: id, input: try req.content.decode(ApplicantInput.self), actor: actor,
                                                        store: req.store, now: req.now)
        return try await Self.card(applicant, req: req)
    }

    func history(req: Request) async throws -> [HistoryView] {
        let id = try await req.visibleApplicant(req.parameters.get("id", as: UUID.self)).requireID()
        return try await HistoryEntry.query(on: req.db).filter(\.$entityID == id).sort(\.$at).all().map(HistoryView.init)
    }

    func create(req: Request) async throws -> Response {
        let actor = try req.actor
        let input = try req.content.decode(ApplicantInput.self)
        let validated: ApplicantStore.Validated
        do { validated = try ApplicantStore.validate(input, field: "applicant") } catch { throw error.appError }
        let now = req.now
        let applicant = try await req.store.write { db in
            try await ApplicantStore.create(validated, db: db, history: HistoryRecorder(db: db, actor: actor, at: now))
        }
        return try await Self.card(applicant, req: req).encodeResponse(status: .created, for: req)
    }

    func show(req: Request) async throws -> ApplicantCard {
        let applicant = try await req.visibleApplicant(req.parameters.get("id", as: UUID.self))
        let id = try applicant.requireID()
        let card = try await Self.card(applicant, req: req)
        if !card.applicant.masked {
            try await req.audit("personal-data.view", entity: "applicant", entityID: id.uuidString, details: card.applicant.fullName)
        }
        return card
    }

    func search(req: Request) async throws -> Response {
        let actor = try req.actor
        let q = ((try? req.query.get(String.self, at: "q")) ?? "").trimmingCharacters(in: .whitespaces)
        if let format = try ListExports.format(req) { return try await ListExports.applicants(req, q: q.nonBlank, format: format) }
        guard !q.isEmpty else { throw AppError.missing(field: "q") }
        // Finding people by name, phone or e-mail is itself personal data: without the permission nobody is found.
        guard actor.can(.personalData) else { return try await [ApplicantSummary]().encodeResponse(for: req) }
        return try await ApplicantSearch.find(q, limit: 20, access: try await req.applicantAccess(), db: req.db)
            .map { try req.visible(ApplicantStore.summary($0)) }.encodeResponse(for: req)
    }

    func duplicates(req: Request) async throws -> [DuplicateCandidate] {
        guard try req.actor.can(.personalData) else { return [] }
        let input = try req.query.decode(ApplicantInput.self)
        return try await ApplicantSearch.candidates(of: input, excluding: input.id, req: req)
    }

    static func card(_ a: Applicant, req: Request) async throws -> ApplicantCard {
        let id = try a.requireID()
        let coAppeals = try await CoApplicant.query(on: req.db).filter(\.$applicant.$id == id).all().map(\.$appeal.id)
        var query = Appeal.query(on: req.db).group(.or) { group in
            group.filter(\.$applicant.$id == id)
            if !coAppeals.isEmpty { group.filter(\.$id ~~ coAppeals) }
        }
        // Only the appeals in the reader's scope, by the same SQL condition as lists (one query, not one per appeal).
        if let condition = try await req.appealCondition() {
            query = query.filter(.sql(condition))
        }
        let visible = try await query.sort(\.$receivedAt, .descending).all()
        let today = CivilDate.of(req.now, in: req.settings.timeZone)
        let summary = try req.visible(ApplicantStore.summary(a))
        let promises = visible.isEmpty ? [] : try await PromiseRecord.query(on: req.db).filter(\.$appeal.$id ~~ visible.map { try $0.requireID() })
            .sort(\.$dueDate).all()
        return ApplicantCard(
            applicant: summary, socialStatus: a.socialStatus, territory: a.territory, audience: a.audience,
            socialLinks: summary.masked ? [] : a.socialLinks, contactSource: a.contactSource,
            appeals: try visible.map { appeal in
                var item = try AppealListItem(appeal, today: today)
                // A masked card's appeals do not name the person in their excerpts either.
                if summary.masked {
                    item.excerpt = PersonalDataRedaction(names: [a.surname, a.name, a.patronymic], phrases: [a.postalAddress, appeal.addressText] + a.phones + a.emails,
                                                         hidden: req.hiddenMark)(item.excerpt)
                }
                return item
            },
            promises: try await TaskViews(req: req).promises(promises, today: today), mergedInto: a.mergedIntoID)
    }
}

enum ApplicantSearch {
    /// Cards that may be the person typed in, as this reader may see them: their own in full (masked by role); another
    /// unit's only when it has the very phone or e-mail typed, and then only as "a card exists" — a name at an
    /// address proves nothing about who is calling.
    static func candidates(of input: ApplicantInput, excluding: UUID?, req: Request) async throws -> [DuplicateCandidate] {
        let found = try await duplicates(of: input, excluding: excluding, db: req.db)
        let visible = try await req.applicantAccess().visible(found.map(\.applicant.id), db: req.db)
        let byContact: Set<String> = [ApplicantMatching.Reason.samePhone.rawValue, ApplicantMatching.Reason.sameEmail.rawValue]
        return try found.compactMap { candidate in
            if visible.contains(candidate.applicant.id) { return DuplicateCandidate(applicant: try req.visible(candidate.applicant), reasons: candidate.reasons) }
            let reasons = candidate.reasons.filter(byContact.contains)
            return reasons.isEmpty ? nil : DuplicateCandidate(applicant: candidate.applicant.hidden, reasons: reasons)
        }
    }

    /// Whether the typed contacts include one of the card's own phones or e-mails (what lets intake link a card of
    /// another unit to a new appeal).
    static func sharesContact(_ input: ApplicantInput, with card: Applicant) -> Bool {
        ApplicantMatching.sharesContact(typedPhones: (input.phone.map { [$0] } ?? []) + (input.phones ?? []),
                                        typedEmails: (input.email.map { [$0] } ?? []) + (input.emails ?? []),
                                        phones: card.phones, emails: card.emails)
    }

    /// By phone or e-mail (exact, after normalisation) or by words of the name and address.
    /// Only the cards `access` shows.
    static func find(_ q: String, limit: Int, access: ApplicantAccess, db: any Database) async throws -> [Applicant] {
        var query = Applicant.query(on: db)
        if let email = TextNormalizer.emailKey(q) {
            query = query.filter(\.$id ~~ (try await contactIDs([email], db: db)))
        } else if q.allSatisfy({ $0.isNumber || " +-()".contains($0) }), let phone = TextNormalizer.phoneKey(q) {
            query = query.filter(\.$id ~~ (try await contactIDs([phone], db: db)))
        } else {
            let words = TextNormalizer.words(q).prefix(5)
            guard !words.isEmpty else { return [] }
            query = query.filter(\.$mergedIntoID == nil)
            for word in words { query = query.filter(\.$searchText, .custom("LIKE"), "% \(word)%") }
        }
        if let condition = access.condition { query = query.filter(.sql(condition)) }
        return try await query.limit(limit).all()
    }

    static func contactIDs(_ keys: [String], db: any Database) async throws -> [UUID] {
        Array(Set(try await ApplicantContact.query(on: db).filter(\.$valueKey ~~ keys).all().map(\.$applicant.id)))
    }

    static func byContact(_ keys: [String], db: any Database) async throws -> [Applicant] {
        let ids = try await contactIDs(keys, db: db)
        guard !ids.isEmpty else { return [] }
        return try await Applicant.query(on: db).filter(\.$id ~~ ids).all()
    }

    static func duplicates(of input: ApplicantInput, excluding: UUID?, db: any Database) async throws -> [DuplicateCandidate] {
        let phones = ((input.phone.map { [$0] } ?? []) + (input.phones ?? [])).compactMap(TextNormalizer.phoneKey)
        let emails = ((input.email.map { [$0] } ?? []) + (input.emails ?? [])).compactMap(TextNormalizer.emailKey)
        var candidates = try await byContact(phones + emails, db: db)
        if let address = input.postalAddress.map(ApplicantMatching.addressKey), !address.isEmpty {
            candidates += try await Applicant.query(on: db).filter(\.$addressKey == address).filter(\.$mergedIntoID == nil).limit(200).all()
        }
        let probe = ApplicantMatching.Card(
            fullName: [input.surname, input.name, input.patronymic, input.organisationName].compactMap { $0 }.joined(separator: " "),
            phoneKeys: Set(phones), emailKeys: Set(emails), address: input.postalAddress)
        var seen = Set<UUID>()
        var result: [DuplicateCandidate] = []
        for candidate in candidates {
            guard let id = candidate.id, id != excluding, seen.insert(id).inserted else { continue }
            let card = ApplicantMatching.Card(fullName: candidate.fullName,
                                              phoneKeys: Set(candidate.phones.compactMap(TextNormalizer.phoneKey)),
                                              emailKeys: Set(candidate.emails), address: candidate.postalAddress)
            let reasons = ApplicantMatching.reasons(probe, card)
            if !reasons.isEmpty {
                try result.append(DuplicateCandidate(applicant: ApplicantStore.summary(candidate), reasons: reasons.map(\.rawValue)))
            }
        }
        return result
    }
}
