import Fluent
import Foundation
import OmbudDomain

/// Storage of applicant cards: one person, one card, with normalised contacts for duplicate search.
enum ApplicantStore {
    struct Validated: Sendable {
        var kind: ApplicantKind
        var surname, name, patronymic, organisationName: String?
        var phones: [String]
        var emails: [String]
        var postalAddress: String?
        var socialStatus, territory, audience, contactSource: String?
        var socialLinks: [String]
        var publicityConsent = false
    }

    static func validate(_ input: ApplicantInput, field: String) throws(ValidationError) -> Validated {
        let kind: ApplicantKind = try Validate.choice(input.kind, field: "\(field).kind", default: .person)
        func text(_ value: String?, _ name: String, max: Int = 200) throws(ValidationError) -> String? {
            try Validate.text(value, field: "\(field).\(name)", required: false, max: max)
        }
        let surname = try text(input.surname, "surname")
        let name = try text(input.name, "name")
        let organisationName = try text(input.organisationName, "organisationName", max: 500)
        try Validate.applicantName(kind: kind, surname: surname, name: name, organisationName: organisationName, field: field)
        var phones: [String] = []
        for (i, phone) in ((input.phone.map { [$0] } ?? []) + (input.phones ?? [])).enumerated() {
            let trimmed = phone.trimmingCharacters(in: .whitespaces)
            guard TextNormalizer.phoneKey(trimmed) != nil else {
                throw ValidationError(field: i == 0 && input.phone != nil ? "\(field).phone" : "\(field).phones", reason: "is not a phone number")
            }
            if !phones.contains(trimmed) { phones.append(trimmed) }
        }
        var emails: [String] = []
        for email in (input.email.map { [$0] } ?? []) + (input.emails ?? []) {
            guard let key = TextNormalizer.emailKey(email) else {
                throw ValidationError(field: input.email != nil ? "\(field).email" : "\(field).emails", reason: "is not an e-mail address")
            }
            if !emails.contains(key) { emails.append(key) }
        }
        return Validated(
            kind: kind, surname: surname, name: name, patronymic: try text(input.patronymic, "patronymic"),
            organisationName: organisationName, phones: phones, emails: emails,
            postalAddress: try text(input.postalAddress, "postalAddress", max: 1000),
            socialStatus: try text(input.socialStatus, "socialStatus"), territory: try text(input.territory, "territory"),
            audience: try text(input.audience, "audience"), contactSource: try text(input.contactSource, "contactSource"),
            socialLinks: (input.socialLinks ?? []).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty },
            publicityConsent: input.publicityConsent ?? false)
    }

    static func create(_ v: Validated, db: any Database, history: HistoryRecorder) async throws -> Applicant {
        let applicant = Applicant()
        applicant.id = UUID.timeOrdered()
        fill(applicant, from: v)
        applicant.createdAt = history.at
        applicant.updatedAt = history.at
        try await applicant.create(on: db)
        try await storeContacts(of: applicant, db: db)
        try await history.record(entity: "applicant", id: applicant.requireID(), appealID: nil, action: "create")
        return applicant
    }

    static func fill(_ applicant: Applicant, from v: Validated) {
        applicant.kind = v.kind.rawValue
        applicant.surname = v.surname
        applicant.name = v.name
        applicant.patronymic = v.patronymic
        applicant.organisationName = v.organisationName
        applicant.phones = v.phones
        applicant.emails = v.emails
        applicant.postalAddress = v.postalAddress
        applicant.addressKey = v.postalAddress.map(ApplicantMatching.addressKey)
        applicant.socialStatus = v.socialStatus
        applicant.territory = v.territory
        applicant.audience = v.audience
        applicant.socialLinks = v.socialLinks
        applicant.contactSource = v.contactSource
        applicant.publicityConsent = v.publicityConsent
        applicant.searchText = " " + TextNormalizer.words([v.surname, v.name, v.patronymic, v.organisationName, v.postalAddress]
            .compactMap { $0 }.joined(separator: " ")).joined(separator: " ") + " "
    }

    static func storeContacts(of applicant: Applicant, db: any Database) async throws {
        let id = try applicant.requireID()
        for (kind, key) in contactKeys(of: applicant) {
            try await ApplicantContact(applicantID: id, kind: kind, valueKey: key).create(on: db)
        }
    }

    /// The keys a card is found by: normalised phones, e-mails, and network ids (`telegram:123`, `vk:42`).
    static func contactKeys(of applicant: Applicant) -> [(kind: String, key: String)] {
        applicant.phones.compactMap(TextNormalizer.phoneKey).map { ("phone", $0) } + applicant.emails.map { ("email", $0) }
            + applicant.socialLinks.compactMap(SocialIdentity.contactKey(link:)).map { ("social", $0) }
    }

    static func summary(id: UUID, _ v: Validated) -> ApplicantSummary {
        let record = Applicant()
        record.id = id
        fill(record, from: v)
        return summary(record, id: id)
    }

    static func summary(_ a: Applicant) throws -> ApplicantSummary {
        summary(a, id: try a.requireID())
    }

    private static func summary(_ a: Applicant, id: UUID) -> ApplicantSummary {
        ApplicantSummary(id: id, kind: a.kind, fullName: a.fullName, surname: a.surname, name: a.name,
                         patronymic: a.patronymic, organisationName: a.organisationName, phones: a.phones,
                         emails: a.emails, postalAddress: a.postalAddress, publicityConsent: a.publicityConsent)
    }
}
