import Fluent
import Foundation
import OmbudDomain
import SQLKit
import Vapor

/// Scopes and masking applied to appeals and applicants, on top of the permissions routes require.
extension Request {
    /// The units whose appeals the actor sees.
    func accessScope() async throws -> AccessScope {
        try actor.scope(try await store.references.current(db: db))
    }

    /// The actor's scope as a condition on `appeals` rows (nil: everything), for lists, search and statistics.
    func appealCondition() async throws -> (any SQLExpression)? {
        AccessSQL.condition(try await accessScope(), user: try actor.userID)
    }

    /// The appeal if the actor may see it. Outside the scope it answers 404 like an unknown id, so that guessing ids
    /// does not even reveal that an appeal exists.
    func visibleAppeal(_ id: UUID) async throws -> Appeal {
        guard let appeal = try await Appeal.find(id, on: db), try await maySee(appeal, in: try await accessScope()) else {
            throw AppError.notFound(entity: "appeal", id: id.uuidString)
        }
        return appeal
    }

    /// The `:id` path parameter as an appeal id; a value that is not a UUID answers 404 like an unknown appeal.
    func appealIDParameter() throws -> UUID {
        guard let id = parameters.get("id", as: UUID.self) else { throw AppError.notFound(entity: "appeal", id: parameters.get("id") ?? "") }
        return id
    }

    /// The appeal a request names by id or tracking code (in field `field`), if the actor may see it; else 422 as for
    /// an unknown one.
    func resolveAppeal(_ ref: String, field: String) async throws -> UUID {
        try await AppealQueries.resolve(ref, visibleTo: try actor, references: try await store.references.current(db: db), db: db, field: field)
    }

    /// The id of the `:id` appeal, if the actor may see it.
    func visibleAppealID() async throws -> UUID {
        try await visibleAppeal(try appealIDParameter()).requireID()
    }

    /// Whether `appeal` is in `scope` (computed once per request by the caller).
    func maySee(_ appeal: Appeal, in scope: AccessScope) async throws -> Bool {
        try await AccessCheck.allows(scope, appeal: appeal, user: try actor.userID, db: db)
    }

    /// The applicant as this actor may see them.
    func visible(_ summary: ApplicantSummary) throws -> ApplicantSummary {
        summary.seen(by: try actor.permissions)
    }
}

/// Whether someone other than the caller may see an appeal: a task or a promise is given only to people (and units)
/// who can open it, so that its notifications never reach anyone outside the appeal's scope.
enum AccessCheck {
    static func allows(_ scope: AccessScope, appeal: Appeal, user: UUID?, db: any Database) async throws -> Bool {
        if scope == .all { return true }
        let questions = try await Question.query(on: db).filter(\.$appeal.$id == appeal.requireID()).all()
        return scope.allows(office: appeal.$office.id, executorUnits: questions.compactMap(\.executorUnitID),
                            redirectedTo: appeal.redirectedToUnitID, executorUsers: questions.compactMap(\.executorUserID),
                            user: user ?? UUID())
    }

    /// The active user of `login` (nil when none is given), who must be able to see the appeal; else 422 naming `field`.
    static func person(_ login: String?, field: String, for appeal: Appeal, references: ReferenceCache.Snapshot,
                       db: any Database) async throws -> User? {
        guard let user = try await Accounts.activeUser(login, field: field, db: db) else { return nil }
        try await requireVisible(appeal, to: user, field: field, references: references, db: db)
        return user
    }

    /// The unit of `code` (nil when none is given), whose people must be able to see the appeal; else 422 naming `field`.
    static func unit(_ code: String?, field: String, for appeal: Appeal, references: ReferenceCache.Snapshot,
                     db: any Database) async throws -> UUID? {
        guard let unit = try await UnitLookup(db: db).id(code, field: field) else { return nil }
        try await requireVisible(appeal, toUnit: unit, field: field, references: references, db: db)
        return unit
    }

    /// The user, by their units and roles, may see the appeal; else 422 naming `field`.
    private static func requireVisible(_ appeal: Appeal, to user: User, field: String, references: ReferenceCache.Snapshot,
                                       db: any Database) async throws {
        let permissions = Set(user.roles.flatMap { references.roles[$0] ?? [] })
        let scope = AccessScope.of(memberOf: Set(user.unitIDs), parents: references.unitParents, hqUnits: references.hqUnits,
                                   permissions: permissions)
        guard try await allows(scope, appeal: appeal, user: user.id, db: db) else {
            throw AppError.invalid(field: field, reason: "\(user.login) cannot see appeal \(appeal.trackingCode)")
        }
    }

    /// The people of the unit may see the appeal; else 422 naming `field`.
    private static func requireVisible(_ appeal: Appeal, toUnit unit: UUID, field: String, references: ReferenceCache.Snapshot,
                               db: any Database) async throws {
        let scope = AccessScope.of(memberOf: [unit], parents: references.unitParents, hqUnits: references.hqUnits, permissions: [])
        guard try await allows(scope, appeal: appeal, user: nil, db: db) else {
            throw AppError.invalid(field: field, reason: "unit \(references.unitCodes[unit] ?? "") cannot see appeal \(appeal.trackingCode)")
        }
    }
}

enum AccessSQL {
    /// The scope as a condition on `appeals` rows, the same rule as `AccessScope.allows`.
    static func condition(_ scope: AccessScope, user: UUID) -> (any SQLExpression)? {
        guard case let .units(visible, includesRoot) = scope else { return nil }
        let ids = visible.map { SQLBind($0) as any SQLExpression }
        var parts: [SQLQueryString] = [
            "EXISTS (SELECT 1 FROM questions q WHERE q.appeal_id = appeals.id AND q.executor_user_id = \(bind: user))",
        ]
        if !ids.isEmpty {
            let list = SQLGroupExpression(SQLList(ids))
            parts.append("appeals.office_id IN \(list)")
            parts.append("appeals.redirected_to_unit_id IN \(list)")
            parts.append("EXISTS (SELECT 1 FROM questions q WHERE q.appeal_id = appeals.id AND q.executor_unit_id IN \(list))")
        }
        if includesRoot {
            parts.append("""
                (appeals.office_id IS NULL AND appeals.redirected_to_unit_id IS NULL AND NOT EXISTS \
                (SELECT 1 FROM questions q WHERE q.appeal_id = appeals.id AND q.executor_unit_id IS NOT NULL))
                """)
        }
        return SQLGroupExpression(SQLList(parts, separator: SQLRaw(" OR ")))
    }
}

extension ApplicantSummary {
    /// The summary as a reader with `permissions` sees it (`PersonalDataMask` decides).
    func seen(by permissions: Set<Permission>) -> ApplicantSummary {
        guard !PersonalDataMask.shows(permissions: permissions, publicityConsent: publicityConsent) else { return self }
        var copy = self
        copy.fullName = PersonalDataMask.displayName(kind: ApplicantKind(rawValue: kind) ?? .person, organisationName: organisationName)
        copy.surname = nil
        copy.name = nil
        copy.patronymic = nil
        copy.phones = []
        copy.emails = []
        copy.postalAddress = nil
        copy.masked = true
        return copy
    }
}

extension AppealView {
    /// The appeal as a reader with `permissions` sees it: without personal data, applicants masked (unless they
    /// consented to publicity), the street address dropped and the point rounded, and what of them is written in the
    /// text, the questions and the answers replaced by `hidden` (with phone numbers and e-mail addresses).
    func seen(by permissions: Set<Permission>, hidden: String) -> AppealView {
        guard !permissions.contains(.personalData) else { return self }
        var copy = self
        copy.applicant = applicant?.seen(by: permissions)
        copy.coApplicants = coApplicants.map { $0.seen(by: permissions) }
        let masked = ([applicant] + coApplicants.map(Optional.some)).compactMap { $0 }.filter { $0.seen(by: permissions).masked }
        var phrases: [String?] = masked.flatMap { [$0.postalAddress] + $0.phones + $0.emails }
        if let address, !PersonalDataMask.showsAddress(permissions: permissions, applicantShown: copy.applicant.map { !$0.masked }) {
            copy.address = AddressView(text: nil, lat: PersonalDataMask.approximate(address.lat),
                                       lon: PersonalDataMask.approximate(address.lon), district: address.district)
            phrases.append(address.text)
        }
        let redact = PersonalDataRedaction(names: masked.flatMap { [$0.surname, $0.name, $0.patronymic] }, phrases: phrases, hidden: hidden)
        copy.text = redact(text)
        copy.questions = questions.map { q in
            var q = q
            q.text = redact(q.text)
            q.answerText = q.answerText.map { redact($0) }
            return q
        }
        return copy
    }
}


extension Request {
    /// What stands for personal data in a text shown to a reader without the permission, in their language.
    var hiddenMark: String { text("card", "hidden") }

    /// What hides an appeal's personal data in free text (its history, messages) from this reader; nil when they see it.
    func redaction(for appeal: Appeal) async throws -> PersonalDataRedaction? {
        let permissions = try actor.permissions
        guard !permissions.contains(.personalData) else { return nil }
        var ids = try await CoApplicant.query(on: db).filter(\.$appeal.$id == appeal.requireID()).all().map(\.$applicant.id)
        if let id = appeal.$applicant.id { ids.append(id) }
        let people = ids.isEmpty ? [] : try await Applicant.query(on: db).filter(\.$id ~~ ids).all()
            .filter { !PersonalDataMask.shows(permissions: permissions, publicityConsent: $0.publicityConsent) }
        return PersonalDataRedaction(names: people.flatMap { [$0.surname, $0.name, $0.patronymic] },
                                     phrases: people.flatMap { [$0.postalAddress] + $0.phones + $0.emails } + [appeal.addressText],
                                     hidden: hiddenMark)
    }
}

extension HistoryView {
    /// The entry as a reader without personal data sees it: a card's changes and the applicant's name hidden, known
    /// values and phone numbers or e-mail addresses in the rest replaced.
    func redacted(_ redact: PersonalDataRedaction?, hidden: String) -> HistoryView {
        guard let redact else { return self }
        var copy = self
        // A card's changes, and file names (a scan is named after its owner), say nothing without the person.
        if entity == "applicant" || field == "applicant" || field == "attachments" {
            copy.from = from.map { _ in hidden }
            copy.to = to.map { _ in hidden }
            copy.comment = comment.map { redact($0) }
            copy.noteParams = noteParams?.mapValues { _ in hidden }
        } else {
            copy.from = from.map { redact($0) }
            copy.to = to.map { redact($0) }
            copy.comment = comment.map { redact($0) }
            copy.noteParams = noteParams?.mapValues { redact($0) }
        }
        return copy
    }
}

extension Request {
    /// Whether the actor may open an appeal's files: scans of passports and applications are personal data, so a reader
    /// without the permission opens them only when the applicant agreed to publicity. Without it a file is listed
    /// under a neutral name and opens like an unknown one.
    func mayOpenFiles(of appeal: Appeal) async throws -> Bool {
        if try actor.can(.personalData) { return true }
        guard let id = appeal.$applicant.id, let applicant = try await Applicant.find(id, on: db) else { return false }
        return applicant.publicityConsent
    }
}

extension AttachmentView {
    /// A file as a reader who may not open it sees it: its kind and size, not its name.
    func unnamed(_ position: Int, hidden: String) -> AttachmentView {
        var copy = self
        let ext = (fileName as NSString).pathExtension
        copy.fileName = "\(hidden) \(position)" + (ext.isEmpty ? "" : ".\(ext)")
        return copy
    }
}
