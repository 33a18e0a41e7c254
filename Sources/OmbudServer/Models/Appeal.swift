import Fluent
import Foundation
import OmbudDomain

final class Appeal: Model, @unchecked Sendable {
    static let schema = "appeals"
    @ID(key: .id) var id: UUID?
    @Field(key: "tracking_code") var trackingCode: String
    @Field(key: "workflow") var workflow: String
    @Field(key: "status") var status: String
    @Field(key: "channel") var channel: String
    // `reply_channel` (migration 010) is read with `AppealQueries.replyChannel`, not as a field: migrations before 010
    // load this model, and a field would make them select a column that does not exist yet.
    @Field(key: "kind") var kind: String
    @Field(key: "form") var form: String
    @Field(key: "urgency") var urgency: String
    @Field(key: "received_at") var receivedAt: Date
    @OptionalField(key: "registered_at") var registeredAt: Date?
    @OptionalField(key: "closed_at") var closedAt: Date?
    @OptionalParent(key: "applicant_id") var applicant: Applicant?
    @Field(key: "is_collective") var isCollective: Bool
    @Field(key: "is_deputy_inquiry") var isDeputyInquiry: Bool
    @Field(key: "text") var text: String
    @OptionalField(key: "address_text") var addressText: String?
    @OptionalField(key: "lat") var lat: Double?
    @OptionalField(key: "lon") var lon: Double?
    @OptionalField(key: "district") var district: String?
    @OptionalParent(key: "office_id") var office: OrgUnit?
    @OptionalField(key: "complained_unit_id") var complainedUnitID: UUID?
    @OptionalField(key: "redirected_to_unit_id") var redirectedToUnitID: UUID?
    @OptionalField(key: "repeat_of_id") var repeatOfID: UUID?
    @OptionalField(key: "duplicate_of_id") var duplicateOfID: UUID?
    @OptionalField(key: "article11_ground") var article11Ground: String?
    @Field(key: "registration_due") var registrationDue: String
    @OptionalField(key: "redirect_due") var redirectDue: String?
    @OptionalField(key: "answer_due") var answerDue: String?
    @OptionalField(key: "control_date") var controlDate: String?
    @Field(key: "extension_days") var extensionDays: Int
    @OptionalField(key: "extension_reason") var extensionReason: String?
    @Field(key: "under_control") var underControl: Bool
    @OptionalField(key: "external_id") var externalID: String?
    @Field(key: "search_text") var searchText: String
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "updated_at") var updatedAt: Date

    init() {}
}

final class CoApplicant: Model, @unchecked Sendable {
    static let schema = "appeal_co_applicants"
    @ID(key: .id) var id: UUID?
    @Parent(key: "appeal_id") var appeal: Appeal
    @Parent(key: "applicant_id") var applicant: Applicant

    init() {}
    init(appealID: UUID, applicantID: UUID) {
        self.$appeal.id = appealID
        self.$applicant.id = applicantID
    }
}

final class Question: Model, @unchecked Sendable {
    static let schema = "questions"
    @ID(key: .id) var id: UUID?
    @Parent(key: "appeal_id") var appeal: Appeal
    @Field(key: "position") var position: Int
    @Field(key: "topic_code") var topicCode: String
    @Field(key: "text") var text: String
    @OptionalField(key: "executor_unit_id") var executorUnitID: UUID?
    @OptionalField(key: "executor_user_id") var executorUserID: UUID?
    @Field(key: "status") var status: String
    @OptionalField(key: "result") var result: String?
    @OptionalField(key: "answer_text") var answerText: String?
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "updated_at") var updatedAt: Date

    init() {}
}

final class TrackingSequence: Model, @unchecked Sendable {
    static let schema = "tracking_sequences"
    @ID(custom: "year", generatedBy: .user) var id: Int?
    @Field(key: "last_value") var lastValue: Int
    init() {}
}

extension Appeal {
    /// The deadline columns as the domain's value; the one place that maps between them.
    var deadlines: Deadlines {
        get {
            Deadlines(registrationDue: CivilDate(iso: registrationDue) ?? CivilDate(dayNumber: 0),
                      redirectDue: redirectDue.flatMap(CivilDate.init(iso:)), answerDue: answerDue.flatMap(CivilDate.init(iso:)),
                      controlDate: controlDate.flatMap(CivilDate.init(iso:)), extensionDays: extensionDays,
                      extensionReason: extensionReason)
        }
        set {
            registrationDue = newValue.registrationDue.iso
            redirectDue = newValue.redirectDue?.iso
            answerDue = newValue.answerDue?.iso
            controlDate = newValue.controlDate?.iso
            extensionDays = newValue.extensionDays
            extensionReason = newValue.extensionReason
        }
    }
}
