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
    var note: HistoryText? = nil
}

/// What the system says in a history entry, kept as a key of the `historyNotes` catalogue with its parameters and
/// rendered in the reader's language; a person's own words stay in the entry's comment.
struct HistoryText: Sendable, Equatable {
    var key: String
    var params: [String: String] = [:]

    var encodedParams: String? {
        guard !params.isEmpty, let data = try? JSONCoding.encoder.encode(params) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    static func decode(key: String?, params: String?) -> HistoryText? {
        guard let key else { return nil }
        let values = params.flatMap { try? JSONDecoder().decode([String: String].self, from: Data($0.utf8)) } ?? [:]
        return HistoryText(key: key, params: values)
    }
}

struct HistoryRecorder {
    let db: any Database
    let actor: Actor?
    let at: Date

    func record(entity: String, id: UUID, appealID: UUID?, action: String, field: String? = nil,
                from: String? = nil, to: String? = nil, comment: String? = nil, note: HistoryText? = nil) async throws {
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
        entry.noteKey = note?.key
        entry.noteParams = note?.encodedParams
        try await entry.create(on: db)
    }

    /// Records one entry per field that changed.
    func changes(entity: String, id: UUID, appealID: UUID?, _ pairs: [(String, String?, String?)], comment: String? = nil,
                 note: HistoryText? = nil) async throws {
        for (field, from, to) in pairs where from != to {
            try await record(entity: entity, id: id, appealID: appealID, action: "update", field: field, from: from, to: to, comment: comment, note: note)
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
    /// The system's words: a `historyNotes` key and its parameters (`noteText` is them in the reader's language).
    var noteKey: String?
    var noteParams: [String: String]?
    var noteText: String?

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
        let note = HistoryText.decode(key: entry.noteKey, params: entry.noteParams)
        noteKey = note?.key
        noteParams = note?.params
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

/// What a history entry's values mean to a reader: topic, unit and people names for codes and ids, catalogue words
/// for keys, dates as dates — and the system's notes in the reader's language.
struct HistoryLabels {
    var topics: [String: String] = [:]
    var units: [String: String] = [:]
    var users: [String: String] = [:]

    static func load(_ views: [HistoryView], db: any Database) async throws -> HistoryLabels {
        var codes = Set<String>(), ids = Set<UUID>()
        for h in views {
            let values = [h.from, h.to].compactMap { $0 }
            if h.field == "topicCode" || (h.entity == "question" && h.action == "create") { codes.formUnion(values) }
            if h.field == "executorUnit" || h.field == "executorUser" { ids.formUnion(values.compactMap(UUID.init(uuidString:))) }
        }
        var labels = HistoryLabels()
        if !codes.isEmpty {
            for topic in try await TopicRecord.query(on: db).filter(\.$id ~~ codes).all() { labels.topics[try topic.requireID()] = topic.name }
        }
        if !ids.isEmpty {
            for unit in try await OrgUnit.query(on: db).filter(\.$id ~~ ids).all() { labels.units[try unit.requireID().uuidString] = unit.name }
            for user in try await User.query(on: db).filter(\.$id ~~ ids).all() { labels.users[try user.requireID().uuidString] = user.fullName }
        }
        return labels
    }

    /// `raw` (the entry's from or to) as the reader reads it.
    func value(_ raw: String?, of h: HistoryView, req: Request) -> String? {
        guard let raw else { return nil }
        switch h.field {
        case "status": return h.entity == "question" ? req.catalogued("questionStatus", raw) : req.catalogued("states", raw)
        case "topicCode": return topics[raw] ?? raw
        case "result": return req.catalogued("results", raw)
        case "executorUnit": return units[raw] ?? raw
        case "executorUser": return users[raw] ?? raw
        case "replyChannel": return req.catalogued("channels", raw)
        case "controlDate", "answerDue": return CivilDate(iso: raw).map { req.format.date($0) } ?? raw
        default: break
        }
        if h.entity == "question" && h.action == "create" { return topics[raw] ?? raw }
        if h.action == "import" { return req.catalogued("states", raw) }
        if ["mail-in", "message-in", "repeat-contact", "reply-failed", "notice-failed", "reply-sent", "notice-sent", "reply-pending"].contains(h.action) {
            return req.catalogued("channels", raw)
        }
        return raw
    }
}

extension Request {
    /// A system note in the reader's language: `{name}` placeholders filled, a channel named as the catalogue names it.
    func historyNote(key: String, params: [String: String]) -> String {
        var text = catalogued("historyNotes", key)
        for (name, value) in params {
            let shown = name == "channel" ? catalogued("channels", value) : value
            text = text.replacingOccurrences(of: "{\(name)}", with: shown)
        }
        return text
    }
}
