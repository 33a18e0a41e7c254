import Fluent
import Foundation
import OmbudDomain
import Vapor

/// Appends to the change history. There is deliberately no function that edits or removes an entry.
/// A history entry of an appeal, decided before the appeal is written (its actor and time are the appeal's).
struct HistoryNote: Sendable {
    var action: String
    var field: String? = nil
    var to: String? = nil
    var comment: String? = nil
}

struct HistoryRecorder {
    let db: any Database
    let actor: Actor?
    let at: Date

    func record(entity: String, id: UUID, appealID: UUID?, action: String, field: String? = nil,
                from: String? = nil, to: String? = nil, comment: String? = nil) async throws {
        let entry = HistoryEntry()
        entry.id = UUID.timeOrdered(at: at)
        entry.entity = entity
        entry.entityID = id
        entry.appealID = appealID
        entry.actorID = actor?.userID
        entry.actor = actor?.login ?? "system"
        entry.at = at
        entry.action = action
        entry.field = field
        entry.fromValue = from
        entry.toValue = to
        entry.comment = comment
        try await entry.create(on: db)
    }

    /// Records one entry per field that changed.
    func changes(entity: String, id: UUID, appealID: UUID?, _ pairs: [(String, String?, String?)], comment: String? = nil) async throws {
        for (field, from, to) in pairs where from != to {
            try await record(entity: entity, id: id, appealID: appealID, action: "update", field: field, from: from, to: to, comment: comment)
        }
    }
}

struct HistoryView: Content {
    var id: UUID
    var entity: String
    var entityId: UUID
    var actor: String
    var at: Date
    var action: String
    var field: String?
    var from: String?
    var to: String?
    var comment: String?

    init(_ entry: HistoryEntry) throws {
        id = try entry.requireID()
        entity = entry.entity
        entityId = entry.entityID
        actor = entry.actor
        at = entry.at
        action = entry.action
        field = entry.field
        from = entry.fromValue
        to = entry.toValue
        comment = entry.comment
    }
}

/// One message of an appeal's correspondence as the API gives it.
struct CorrespondenceView: Content {
    var id: UUID
    var direction: String
    var channel: String
    var at: Date
    var subject: String?
    var text: String
    var automatic: Bool
    /// Who wrote (in) or to whom it went (out), the message's link on the network: null when masked. An answer sent
    /// greets the applicant by name, so its text is empty when masked (its answers are on the appeal's questions).
    var sender: String?
    var recipient: String?
    var link: String?
    var masked: Bool

    init(_ row: CorrespondenceRecord, personal: Bool) throws {
        id = try row.requireID()
        direction = row.direction
        channel = row.channel
        at = row.at
        subject = row.subject
        text = personal || row.direction == "in" ? row.text : ""
        automatic = row.automatic
        sender = personal ? row.sender : nil
        recipient = personal ? row.recipient : nil
        link = personal ? row.link : nil
        masked = !personal
    }

    /// The message as a reader without personal data reads it: what of the person is written in it hidden.
    func redacted(_ redact: PersonalDataRedaction?) -> CorrespondenceView {
        guard let redact else { return self }
        var copy = self
        copy.text = redact(text)
        copy.subject = subject.map { redact($0) }
        return copy
    }
}
