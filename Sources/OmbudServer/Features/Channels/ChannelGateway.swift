import Fluent
import Foundation
import OmbudDomain
import Vapor

/// A message from a social network or the SMS gateway into the registry: it joins the open appeal of its thread (the
/// same author in the same chat or under the same post), or becomes a new appeal with the author's card — found by
/// their network id or phone, else made — and their link. Each message is taken once, however often it is delivered:
/// its key is unique in the correspondence, which is written in the same transaction as the appeal it makes.
enum ChannelGateway {
    enum Outcome: Equatable, Sendable {
        case created(String)
        case added(String)
        case duplicate
    }

    static func actor(_ network: String) -> Actor { .system(network) }

    static func receive(_ message: ChannelMessage, app: Application, now: Date) async throws -> Outcome {
        // One author's messages sent together (an album, a long SMS in parts) are taken one after another, so the
        // first makes the appeal and the others join it.
        try await app.channelThreads.serially(message.thread) {
            if try await taken(message, db: app.store.db) { return .duplicate }
            do {
                return try await take(message, app: app, now: now)
            } catch {
                // The same delivery taken meanwhile by another process: the message's unique key refused this one.
                if try await taken(message, db: app.store.db) { return .duplicate }
                throw error
            }
        }
    }

    /// Whether the message is in the correspondence already (its key is unique there, written with the appeal).
    static func taken(_ message: ChannelMessage, db: any Database) async throws -> Bool {
        try await CorrespondenceRecord.query(on: db).filter(\.$messageID == message.messageKey).first() != nil
    }

    static func take(_ message: ChannelMessage, app: Application, now: Date) async throws -> Outcome {
        let db = app.store.db
        let channel: AppealChannel = message.network == "sms" ? .sms : .social
        let earlier = try await CorrespondenceRecord.query(on: db).filter(\.$thread == message.thread).filter(\.$direction == "in")
            .sort(\.$at, .descending).first()
        let limit = app.ombudSettings.attachmentLimit
        if let earlier, let appeal = try await Appeal.find(earlier.appealID, on: db),
           AppealTransitions.workflow.openStates.contains(appeal.status) {
            let (letter, notes, jobs) = try planned(message, channel: channel, appealID: appeal.requireID(), limit: limit, now: now)
            try await Correspondence.add(letter, notes: notes, jobs: jobs, actor: actor(message.network), now: now, store: app.store)
            return .added(appeal.trackingCode)
        }
        var applicant: ApplicantInput
        let contact = message.network == "sms" ? TextNormalizer.phoneKey(message.author.id) : message.author.contactKey
        if let contact, let card = try await ApplicantSearch.byContact([contact], db: db).first(where: { $0.mergedIntoID == nil }) {
            applicant = ApplicantInput(id: card.id)
        } else {
            applicant = ApplicantInput(contactSource: message.network)
            let fallback = message.author.username ?? (message.network == "vk" ? ChannelProfile.placeholder(message.author.id) : message.author.id)
            (applicant.surname, applicant.name) = MailboxParser.cardName(display: message.authorName, email: fallback)
            if message.network == "sms" { applicant.phone = message.author.id } else { applicant.socialLinks = message.author.links }
        }
        let text = message.text.isEmpty ? app.pages.text("reply", "filesOnly", language: .ru) : String(message.text.prefix(Validate.maxTextLength))
        var input = AppealInput(channel: channel.rawValue, text: text, kind: AppealKind.statement.rawValue, form: AppealForm.electronic.rawValue,
                                applicant: applicant)
        input.receivedAt = min(message.sentAt, now)
        if let point = message.point { input.address = AddressInput(lat: point.lat, lon: point.lon) }
        // The author writes again after their last appeal from this thread was closed: a repeat appeal (59-FZ art. 11).
        if let earlier, let code = try await AppealQueries.trackingCodes([earlier.appealID], db: db)[earlier.appealID] { input.repeatOf = code }
        let validated = try AppealIntake.validate(input, now: now)
        var prepared = try await AppealIntake.prepare(validated, actor: actor(message.network), settings: app.ombudSettings, store: app.store, now: now)
        // The message, its history, its files and the notice to its author go in the appeal's own transaction.
        let (letter, notes, jobs) = try planned(message, channel: channel, appealID: prepared.id, limit: limit, now: now)
        prepared.letters = [letter]
        prepared.notes = notes
        prepared.jobs = jobs + [try ChannelNotice.job(appealID: prepared.id, target: message.replyTarget)]
        if message.network == "vk", applicant.id == nil, let card = prepared.applicantID {
            prepared.jobs.append(try ChannelProfile.job(applicantID: card, userID: message.author.id))
        }
        return .created(try await app.ombud.intake.submit(prepared))
    }

    /// The message as a correspondence row (with where an answer to it goes), its history, and the jobs that fetch
    /// its files (the webhook answers at once).
    static func planned(_ message: ChannelMessage, channel: AppealChannel, appealID: UUID, limit: Int, now: Date) throws
        -> (CorrespondenceRecord, [HistoryNote], [JobQueue.Planned]) {
        let row = CorrespondenceRecord(appealID: appealID, direction: "in", channel: channel.rawValue, text: message.text, at: now)
        row.sender = message.author.contactKey ?? message.author.id
        row.messageID = message.messageKey
        row.thread = message.thread
        row.link = message.link ?? message.author.links.first
        row.replyTarget = String(decoding: try JSONEncoder().encode(message.replyTarget), as: UTF8.self)
        // The history names the network, not the person: who wrote is in the correspondence, shown by role.
        var notes = [HistoryNote(action: "message-in", to: message.network, comment: String(message.text.prefix(200)))]
        var jobs: [JobQueue.Planned] = []
        for file in message.files {
            if let size = file.size, size > limit {
                notes.append(HistoryNote(action: "file-refused", field: "attachments", to: file.name,
                                         note: HistoryText(key: "fileNotFetched", params: ["mb": String(limit / 1_048_576)])))
            } else {
                jobs.append(try ChannelFiles.job(appealID: appealID, network: message.network, file: file))
            }
        }
        return (row, notes, jobs)
    }
}
