import Fluent
import Foundation

/// What the public may see of an appeal, and the keys by which its author (a secret link) and an Open311 client
/// (a token) find it again. An appeal without this row is not public at all.
final class PublicAppeal: Model, @unchecked Sendable {
    static let schema = "public_appeals"
    /// The appeal's own id.
    @ID(custom: "id", generatedBy: .user) var id: UUID?
    /// Shown in the public list, on the map and by Open311 `GET requests`.
    @Field(key: "listed") var listed: Bool
    /// The appeal's text may be shown too (Open311 reports are public by nature; portal appeals never).
    @Field(key: "text_public") var textPublic: Bool
    /// SHA-256 of the secret status link's token; the token itself is only in the link.
    @OptionalField(key: "status_token_hash") var statusTokenHash: String?
    @OptionalField(key: "request_token") var requestToken: String?
    @OptionalField(key: "service_code") var serviceCode: String?
    @OptionalField(key: "client_id") var clientID: UUID?
    /// The approximate point (`PublicLocation`), never the exact one.
    @OptionalField(key: "lat") var lat: Double?
    @OptionalField(key: "lon") var lon: Double?
    @OptionalField(key: "district") var district: String?
    @OptionalField(key: "address_id") var addressID: String?
    @OptionalField(key: "media_url") var mediaURL: String?
    /// An Open311 request's answers to its service's attributes, one "question: answer" line each (JSON array).
    @OptionalField(key: "attributes") var attributes: String?
    @Field(key: "created_at") var createdAt: Date

    init() {}
}

/// A further secret status link of a portal appeal: the one its mail carried. The mail job makes it when it sends,
/// so the secret is never stored in clear, not even in the job's payload; only its SHA-256 is kept.
final class PortalLink: Model, @unchecked Sendable {
    static let schema = "portal_links"
    @ID(custom: "token_hash", generatedBy: .user) var id: String?
    @Field(key: "appeal_id") var appealID: UUID
    @Field(key: "created_at") var createdAt: Date

    init() {}
    init(tokenHash: String, appealID: UUID, createdAt: Date) {
        id = tokenHash
        self.appealID = appealID
        self.createdAt = createdAt
    }
}

/// The PIN printed on the slip of an appeal registered by staff: with the tracking code it opens the appeal's status on
/// the portal. Staff who may see the appeal may print it again; it opens no more than the status page shows.
final class AppealPIN: Model, @unchecked Sendable {
    static let schema = "appeal_pins"
    @ID(custom: "appeal_id", generatedBy: .user) var id: UUID?
    @Field(key: "pin") var pin: String
    @Field(key: "created_at") var createdAt: Date

    init() {}
}

/// The answers to the checklist questions of an appeal's topics asked at intake ("question: answer" lines, JSON).
final class AppealAnswers: Model, @unchecked Sendable {
    static let schema = "appeal_answers"
    @ID(custom: "appeal_id", generatedBy: .user) var id: UUID?
    @Field(key: "lines") var lines: String
    @Field(key: "created_at") var createdAt: Date

    init() {}
}

final class AppealRating: Model, @unchecked Sendable {
    static let schema = "appeal_ratings"
    @ID(key: .id) var id: UUID?
    @Field(key: "appeal_id") var appealID: UUID
    @Field(key: "score") var score: Int
    @OptionalField(key: "comment") var comment: String?
    @Field(key: "solved") var solved: Bool
    /// portal, phone (a responder's call-back), open311.
    @Field(key: "source") var source: String
    @Field(key: "at") var at: Date

    init() {}
}

final class AreaSubscriptionRecord: Model, @unchecked Sendable {
    static let schema = "area_subscriptions"
    @ID(key: .id) var id: UUID?
    @Field(key: "email") var email: String
    @Field(key: "language") var language: String
    @OptionalField(key: "district") var district: String?
    @OptionalField(key: "lat") var lat: Double?
    @OptionalField(key: "lon") var lon: Double?
    @OptionalField(key: "radius") var radius: Double?
    /// The secret of the confirm and unsubscribe links: it only manages this subscription, and digests must carry it.
    @Field(key: "token") var token: String
    @OptionalField(key: "confirmed_at") var confirmedAt: Date?
    /// Appeals published after this were not mailed yet.
    @OptionalField(key: "last_sent_at") var lastSentAt: Date?
    @Field(key: "created_at") var createdAt: Date

    init() {}
}

final class Open311Client: Model, @unchecked Sendable {
    static let schema = "open311_clients"
    @ID(key: .id) var id: UUID?
    @Field(key: "name") var name: String
    @Field(key: "key_hash") var keyHash: String
    /// The key's first characters, to tell keys apart in lists.
    @Field(key: "key_prefix") var keyPrefix: String
    /// The agency this client speaks for: it may post updates on appeals assigned or redirected to that unit.
    @OptionalField(key: "unit_id") var unitID: UUID?
    @Field(key: "created_at") var createdAt: Date
    @OptionalField(key: "revoked_at") var revokedAt: Date?

    init() {}
}

final class Open311Service: Model, @unchecked Sendable {
    static let schema = "open311_services"
    @ID(key: .id) var id: UUID?
    @Field(key: "code") var code: String
    @Field(key: "topic_code") var topicCode: String
    @Field(key: "name") var name: String
    @OptionalField(key: "description") var description: String?
    @OptionalField(key: "group_name") var group: String?
    @OptionalField(key: "keywords") var keywords: String?
    @Field(key: "position") var position: Int
    @Field(key: "active") var active: Bool
    @Field(key: "updated_at") var updatedAt: Date

    init() {}
}

final class PublicEvent: Model, @unchecked Sendable {
    static let schema = "public_events"
    @ID(key: .id) var id: UUID?
    @Field(key: "key") var key: String
    @Field(key: "action") var action: String
    @Field(key: "at") var at: Date

    init() {}
}
