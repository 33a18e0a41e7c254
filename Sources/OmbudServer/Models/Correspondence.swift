import Fluent
import Foundation

/// One message of an appeal's correspondence. `message_id` is unique: a message delivered twice is kept once.
final class CorrespondenceRecord: Model, @unchecked Sendable {
    static let schema = "correspondence"
    @ID(key: .id) var id: UUID?
    @Field(key: "appeal_id") var appealID: UUID
    /// in, out
    @Field(key: "direction") var direction: String
    @Field(key: "channel") var channel: String
    @OptionalField(key: "sender") var sender: String?
    @OptionalField(key: "recipient") var recipient: String?
    @OptionalField(key: "subject") var subject: String?
    @Field(key: "text") var text: String
    @OptionalField(key: "message_id") var messageID: String?
    /// An auto-reply or other automatic mail: kept, never answered.
    @Field(key: "automatic") var automatic: Bool
    @Field(key: "at") var at: Date

    init() {}
}
