import Fluent
import Foundation

final class TopicRecord: Model, @unchecked Sendable {
    static let schema = "topics"
    @ID(custom: "code", generatedBy: .user) var id: String?
    @Field(key: "name") var name: String
    @Field(key: "level") var level: Int
    @OptionalField(key: "parent_code") var parentCode: String?
    @Field(key: "section") var section: String
    @Field(key: "assignable") var assignable: Bool
    @Field(key: "is_local") var isLocal: Bool
    @Field(key: "search_text") var searchText: String
    /// The topic's checklist questions (`TopicChecklist`), as JSON.
    @OptionalField(key: "checklist") var checklistJSON: String?

    init() {}
}

final class Attachment: Model, @unchecked Sendable {
    static let schema = "attachments"
    @ID(key: .id) var id: UUID?
    @Parent(key: "appeal_id") var appeal: Appeal
    @Field(key: "sha256") var sha256: String
    @Field(key: "file_name") var fileName: String
    @Field(key: "content_type") var contentType: String
    @Field(key: "size") var size: Int
    @OptionalField(key: "uploaded_by") var uploadedBy: UUID?
    @Field(key: "created_at") var createdAt: Date

    init() {}
}

/// Append-only: the code has no path that updates or deletes a row.
final class HistoryEntry: Model, @unchecked Sendable {
    static let schema = "history"
    @ID(key: .id) var id: UUID?
    @Field(key: "entity") var entity: String
    @Field(key: "entity_id") var entityID: UUID
    @OptionalField(key: "appeal_id") var appealID: UUID?
    @OptionalField(key: "actor_id") var actorID: UUID?
    @Field(key: "actor") var actor: String
    @Field(key: "at") var at: Date
    @Field(key: "action") var action: String
    @OptionalField(key: "field") var field: String?
    @OptionalField(key: "from_value") var fromValue: String?
    @OptionalField(key: "to_value") var toValue: String?
    @OptionalField(key: "comment") var comment: String?
    /// A comment the system wrote: a key of the `historyNotes` catalogue and its parameters (JSON), rendered in the
    /// reader's language. Entries written before keep their text in `comment`.
    @OptionalField(key: "note_key") var noteKey: String?
    @OptionalField(key: "note_params") var noteParams: String?

    init() {}
}

final class CalendarDayRecord: Model, @unchecked Sendable {
    static let schema = "calendar_days"
    @ID(key: .id) var id: UUID?
    @Field(key: "calendar") var calendar: String
    @Field(key: "date") var date: String
    @Field(key: "kind") var kind: String
    @OptionalField(key: "holiday") var holiday: String?

    init() {}
}
