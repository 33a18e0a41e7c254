import Foundation
import OmbudDomain
import Vapor

struct ApplicantInput: Codable, Sendable {
    var id: UUID?
    var kind: String?
    var surname: String?
    var name: String?
    var patronymic: String?
    var organisationName: String?
    var phone: String?
    var phones: [String]?
    var email: String?
    var emails: [String]?
    var postalAddress: String?
    var socialStatus: String?
    var territory: String?
    var audience: String?
    var socialLinks: [String]?
    var contactSource: String?
    var publicityConsent: Bool?
}

struct AddressInput: Codable, Sendable {
    var text: String?
    var lat: Double?
    var lon: Double?
    var district: String?
}

struct QuestionInput: Codable, Sendable {
    var topicCode: String
    var text: String?
    var executorUnitCode: String?
}

struct AppealInput: Codable, Sendable {
    var channel: String
    /// The channel for the answer when it differs from the inbound one (e.g. a phone call answered by letter).
    var replyChannel: String? = nil
    var text: String
    var kind: String?
    var form: String?
    var urgency: String?
    var receivedAt: Date?
    var applicant: ApplicantInput?
    var coApplicants: [ApplicantInput]?
    var isCollective: Bool?
    var questions: [QuestionInput]?
    var address: AddressInput?
    var officeCode: String?
    var complainedUnitCode: String?
    var isDeputyInquiry: Bool?
    var repeatOf: String?
    /// Register at once (the operator registers while the caller is on the line).
    var register: Bool?
}

struct DeadlinesView: Codable, Sendable {
    var registrationDue: String
    var redirectDue: String?
    var answerDue: String?
    var controlDate: String?
    var extensionDays: Int
    var extensionReason: String?
    var daysLeft: Int?
}

extension DeadlinesView {
    /// `daysLeft` only while an answer is still owed.
    init(_ d: Deadlines, underControl: Bool, today: CivilDate) {
        self.init(registrationDue: d.registrationDue.iso, redirectDue: d.redirectDue?.iso, answerDue: d.answerDue?.iso,
                  controlDate: d.controlDate?.iso, extensionDays: d.extensionDays, extensionReason: d.extensionReason,
                  daysLeft: underControl ? today.days(until: d.controlDate ?? d.registrationDue) : nil)
    }
}

struct ApplicantSummary: Content {
    var id: UUID
    var kind: String
    var fullName: String
    var surname: String?
    var name: String?
    var patronymic: String?
    var organisationName: String?
    var phones: [String]
    var emails: [String]
    var postalAddress: String?
    var publicityConsent: Bool
    /// True when name and contacts are hidden from this reader (no personal-data permission, no consent to publicity).
    var masked = false
}

struct QuestionView: Codable, Sendable {
    var id: UUID
    var position: Int
    var topicCode: String
    var text: String
    var executorUnitCode: String?
    var executorUserId: UUID?
    var status: String
    var result: String?
    var answerText: String?
}

struct AddressView: Codable, Sendable {
    var text: String?
    var lat: Double?
    var lon: Double?
    var district: String?
}

struct AppealView: Content {
    var id: UUID
    var trackingCode: String
    var status: String
    var channel: String
    var replyChannel: String?
    var kind: String
    var form: String
    var urgency: String
    var receivedAt: Date
    var registeredAt: Date?
    var closedAt: Date?
    var applicant: ApplicantSummary?
    var coApplicants: [ApplicantSummary]
    var isCollective: Bool
    var isDeputyInquiry: Bool
    var text: String
    var address: AddressView?
    var officeCode: String?
    var complainedUnitCode: String?
    var redirectedToUnitCode: String?
    var repeatOf: String?
    var duplicateOf: String?
    var article11Ground: String?
    var deadlines: DeadlinesView
    var overdue: Bool
    var questions: [QuestionView]
    var allowedTransitions: [String]
    var tasks: [TaskView] = []
    var promises: [PromiseView] = []
}

struct AppealListItem: Codable, Sendable {
    var id: UUID
    var trackingCode: String
    var status: String
    var channel: String
    var kind: String
    var receivedAt: Date
    var controlDate: String?
    var overdue: Bool
    var district: String?
    var excerpt: String
}

struct AppealPage: Content {
    var items: [AppealListItem]
    var nextCursor: String?
}

struct TransitionInput: Codable, Sendable {
    var to: String
    var comment: String?
    var reason: String?
    var article11Ground: String?
    var unitCode: String?
    var duplicateOf: String?
    /// On assignment: the person in the unit who is to answer (their questions and task go to them).
    var executorUserId: UUID? = nil
}

/// A move as a form sends it (and the bulk move's body): every field may be missing or empty.
struct TransitionForm: Content {
    var to: String?
    var comment: String?
    var reason: String?
    var unitCode: String?
    var article11Ground: String?
    var duplicateOf: String?
    var executorUserId: String?

    /// The move with empty fields left out and Persian or Arabic digits in codes made Latin; nil without a target.
    var input: TransitionInput? {
        guard let to = to.nonBlank else { return nil }
        return TransitionInput(to: to, comment: comment.nonBlank, reason: reason.nonBlank, article11Ground: article11Ground.nonBlank,
                               unitCode: unitCode.nonBlank.map(TextNormalizer.latinDigits),
                               duplicateOf: duplicateOf.nonBlank.map(TextNormalizer.latinDigits),
                               executorUserId: executorUserId.nonBlank.flatMap(UUID.init(uuidString:)))
    }
}

struct ExtensionInput: Codable, Sendable {
    var days: Int
    var reason: String
}

struct QuestionUpdate: Codable, Sendable {
    var topicCode: String?
    var text: String?
    var executorUnitCode: String?
    var executorUserId: UUID?
    var status: String?
    var result: String?
    var answerText: String?
}

extension ValidationError {
    var appError: AppError { .invalid(field: field, reason: reason) }
}
