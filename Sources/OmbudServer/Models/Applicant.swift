import Fluent
import Foundation

final class Applicant: Model, @unchecked Sendable {
    static let schema = "applicants"
    @ID(key: .id) var id: UUID?
    @Field(key: "kind") var kind: String
    @OptionalField(key: "surname") var surname: String?
    @OptionalField(key: "name") var name: String?
    @OptionalField(key: "patronymic") var patronymic: String?
    @OptionalField(key: "organisation_name") var organisationName: String?
    @Field(key: "phones") var phones: [String]
    @Field(key: "emails") var emails: [String]
    @OptionalField(key: "postal_address") var postalAddress: String?
    @OptionalField(key: "address_key") var addressKey: String?
    @OptionalField(key: "social_status") var socialStatus: String?
    @OptionalField(key: "territory") var territory: String?
    @OptionalField(key: "audience") var audience: String?
    @Field(key: "social_links") var socialLinks: [String]
    @OptionalField(key: "contact_source") var contactSource: String?
    /// The applicant agreed that their name and contacts may be shown to roles without the personal-data permission.
    @Field(key: "publicity_consent") var publicityConsent: Bool
    /// Set when this card was merged into another (the one that holds its appeals now).
    @OptionalField(key: "merged_into_id") var mergedIntoID: UUID?
    @Field(key: "search_text") var searchText: String
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "updated_at") var updatedAt: Date

    init() {}

    var fullName: String {
        if kind == "organisation", let organisationName { return organisationName }
        return [surname, name, patronymic].compactMap { $0 }.joined(separator: " ")
    }
}

/// Normalised phones and e-mails of applicants, indexed for duplicate detection.
final class ApplicantContact: Model, @unchecked Sendable {
    static let schema = "applicant_contacts"
    @ID(key: .id) var id: UUID?
    @Parent(key: "applicant_id") var applicant: Applicant
    @Field(key: "kind") var kind: String
    @Field(key: "value_key") var valueKey: String

    init() {}
    init(applicantID: UUID, kind: String, valueKey: String) {
        self.$applicant.id = applicantID
        self.kind = kind
        self.valueKey = valueKey
    }
}
