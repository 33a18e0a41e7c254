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
        guard let id = req.parameters.get("id", as: UUID.self) else { throw AppError.notFound(entity: "applicant", id: req.parameters.get("id") ?? "") }
        guard let duplicate = try req.content.decode(MergeInput.self).duplicateId else { throw AppError.missing(field: "duplicateId") }
        let kept = try await ApplicantMerging.merge(keep: id, absorb: duplicate, actor: try req.actor, store: req.store, now: req.now)
        return try await Self.card(kept, req: req)
    }

    func update(req: Request) async throws -> ApplicantCard {
        let actor = try req.actor
        guard let id = req.parameters.get("id", as: UUID.self) else { throw AppError.notFound(entity: "applicant", id: req.parameters.get("id") ?? "") }
        let applicant = try await ApplicantUpdate.apply(id: id, input: try req.content.decode(ApplicantInput.self), actor: actor,
                                                        store: req.store, now: req.now)
        return try await Self.card(applicant, req: req)
    }

    func history(req: Request) async throws -> [HistoryView] {
        _ = try req.actor
        guard let id = req.parameters.get("id", as: UUID.self), try await Applicant.find(id, on: req.db) != nil else {
            throw AppError.notFound(entity: "applicant", id: req.parameters.get("id") ?? "")
        }
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
        guard let id = req.parameters.get("id", as: UUID.self), let applicant = try await Applicant.find(id, on: req.db) else {
            throw AppError.notFound(entity: "applicant", id: req.parameters.get("id") ?? "")
        }
        let card = try await Self.card(applicant, req: req)
        if !card.applicant.masked {
            try await req.audit("personal-data.view", entity: "applicant", entityID: id.uuidString, details: card.applicant.fullName)
        }
        return card
    }

    func search(req: Request) async throws -> [ApplicantSummary] {
        _ = try req.actor
        let q = ((try? req.query.get(String.self, at: "q")) ?? "").trimmingCharacters(in: .whitespaces)
        guard !q.isEmpty else { throw AppError.missing(field: "q") }
        return try await ApplicantSearch.find(q, limit: 20, db: req.db).map { try req.visible(ApplicantStore.summary($0)) }
    }

    func duplicates(req: Request) async throws -> [DuplicateCandidate] {
        _ = try req.actor
        let input = try req.query.decode(ApplicantInput.self)
        return try await ApplicantSearch.duplicates(of: input, excluding: input.id, db: req.db).map { candidate in
            DuplicateCandidate(applicant: try req.visible(candidate.applicant), reasons: candidate.reasons)
        }
    }

    static func card(_ a: Applicant, req: Request) async throws -> ApplicantCard {
        let id = a.id!
        let coAppeals = try await CoApplicant.query(on: req.db).filter(\.$applicant.$id == id).all().map(\.$appeal.id)
        var query = Appeal.query(on: req.db).group(.or) { group in
            group.filter(\.$applicant.$id == id)
            if !coAppeals.isEmpty { group.filter(\.$id ~~ coAppeals) }
        }
        // Only the appeals in the reader's scope, by the same SQL condition as lists (one query, not one per appeal).
        if let condition = AccessSQL.condition(try await req.accessScope(), user: try req.actor.userID) {
            query = query.filter(.sql(condition))
        }
        let visible = try await query.sort(\.$receivedAt, .descending).all()
        let today = CivilDate.of(req.now, in: req.settings.timeZone)
        let summary = try req.visible(ApplicantStore.summary(a))
        let promises = visible.isEmpty ? [] : try await PromiseRecord.query(on: req.db).filter(\.$appeal.$id ~~ visible.map { $0.id! })
            .sort(\.$dueDate).all()
        return ApplicantCard(
            applicant: summary, socialStatus: a.socialStatus, territory: a.territory, audience: a.audience,
            socialLinks: summary.masked ? [] : a.socialLinks, contactSource: a.contactSource,
            appeals: visible.map { AppealListItem($0, today: today) },
            promises: try await TaskViews(req: req).promises(promises, today: today), mergedInto: a.mergedIntoID)
    }
}

enum ApplicantSearch {
    /// By phone or e-mail (exact, after normalisation) or by words of the name and address.
    static func find(_ q: String, limit: Int, db: any Database) async throws -> [Applicant] {
        if let email = TextNormalizer.emailKey(q) { return try await byContact([email], db: db) }
        if q.allSatisfy({ $0.isNumber || " +-()".contains($0) }), let phone = TextNormalizer.phoneKey(q) {
            return try await byContact([phone], db: db)
        }
        let words = TextNormalizer.words(q).prefix(5)
        guard !words.isEmpty else { return [] }
        var query = Applicant.query(on: db).filter(\.$mergedIntoID == nil)
        for word in words { query = query.filter(\.$searchText, .custom("LIKE"), "% \(word)%") }
        return try await query.limit(limit).all()
    }

    static func byContact(_ keys: [String], db: any Database) async throws -> [Applicant] {
        let ids = try await ApplicantContact.query(on: db).filter(\.$valueKey ~~ keys).all().map(\.$applicant.id)
        guard !ids.isEmpty else { return [] }
        return try await Applicant.query(on: db).filter(\.$id ~~ Array(Set(ids))).all()
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
        for candidate in candidates where candidate.id != excluding && seen.insert(candidate.id!).inserted {
            let card = ApplicantMatching.Card(fullName: candidate.fullName,
                                              phoneKeys: Set(candidate.phones.compactMap(TextNormalizer.phoneKey)),
                                              emailKeys: Set(candidate.emails), address: candidate.postalAddress)
            let reasons = ApplicantMatching.reasons(probe, card)
            if !reasons.isEmpty {
                result.append(DuplicateCandidate(applicant: ApplicantStore.summary(candidate), reasons: reasons.map(\.rawValue)))
            }
        }
        return result
    }
}
