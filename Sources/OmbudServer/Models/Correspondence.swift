import Fluent
import Foundation

/// One message of an appeal's correspondence (e-mail, a social network, SMS, a repeat call). `message_id` is unique: a message delivered twice is kept once.
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
    /// Social networks and SMS: one author's messages in one place (`telegram:<chat>:<user>`, `vk:wall-1_77:<user>`).
    @OptionalField(key: "thread") var thread: String?
    /// The message on the network, when it has an address of its own (a wall comment, a public group's message).
    @OptionalField(key: "link") var link: String?
    /// Inbound: where an answer to it goes (`ReplyTarget` as JSON).
    @OptionalField(key: "reply_target") var replyTarget: String?
    /// Outbound: the network's id for the message sent.
    @OptionalField(key: "remote_id") var remoteID: String?

    init() {}

    convenience init(appealID: UUID, direction: String, channel: String, text: String, at: Date, automatic: Bool = false) {
        self.init()
        self.id = UUID.timeOrdered(at: at)
        self.appealID = appealID
        self.direction = direction
        self.channel = channel
        self.text = text
        self.at = at
        self.automatic = automatic
    }
}
