import Fluent
import Foundation
import OmbudDomain
import Vapor

/// The answer goes back through the appeal's reply channel as soon as it is approved (the move to `answered`).
/// E-mail: the tracking code in the subject and a Message-ID (`appeal-<code>.…`) that the applicant's reply carries
/// back, threaded under their own messages. A social network or SMS: through the network's API to the chat, dialogue,
/// comment or phone the citizen wrote from (`ChannelDelivery`). Other channels (a letter, a visit) record that the
/// answer awaits sending by hand.
enum ReplyJob {
    static let kind = "reply.send"

    struct Payload: Codable { var appeal: UUID }
    static let actor = Actor.system("mail")

    /// Queued in the transaction that records the answer, so that an approved answer always has its job.
    /// One job per approved answer: each move to `answered` is a letter of its own, queued in the move's transaction,
    /// so no key is needed (one with the time to the second swallowed a second answer within that second).
    static func enqueue(appealID: UUID, now: Date, db: any Database) async throws {
        try await JobQueue.enqueue(.init(kind: kind, payload: Payload(appeal: appealID), uniqueKey: nil), now: now, db: db)
    }

    static func run(_ job: JobRecord, app: Application) async throws {
        let payload = try job.decode(Payload.self)
        let store = app.store
        guard let appeal = try await Appeal.find(payload.appeal, on: store.db) else { return }
        let applicant = try await appeal.$applicant.id.asyncMap { try await Applicant.find($0, on: store.db) } ?? nil
        let questions = try await Question.query(on: store.db).filter(\.$appeal.$id == appeal.requireID()).sort(\.$position).all()
        let channel = try await AppealQueries.replyChannel(appeal.requireID(), db: store.db).flatMap(AppealChannel.init(rawValue:))
        let answers = questions.compactMap { $0.answerText?.nonBlank }
        switch channel {
        case .email?:
            if let applicant, let to = applicant.emails.first {
                let text = answerText(code: appeal.trackingCode, applicant: applicant, answers: answers, pages: app.pages, replyHint: true)
                try await mail(text, to: to, appeal: appeal, applicant: applicant, job: job, app: app)
                return
            }
        case let network? where network == .social || network == .sms:
            if let target = try await ChannelDelivery.target(appealID: appeal.requireID(), channel: network, applicant: applicant, db: store.db) {
                // Under a wall post or in a group chat others read the answer too: it does not greet the person by name.
                let text = answerText(code: appeal.trackingCode, applicant: target.isShared ? nil : applicant, answers: answers, pages: app.pages,
                                      replyHint: false)
                try await ChannelDelivery.deliver(text, to: target, appealID: appeal.requireID(), channel: network, purpose: "reply", job: job, app: app)
                return
            }
        default:
            break
        }
        try await store.write { db in
            try await HistoryRecorder(db: db, actor: actor, at: app.clock.now())
                .record(entity: "appeal", id: appeal.requireID(), appealID: appeal.requireID(), action: "reply-pending", field: "replyChannel",
                        to: channel?.rawValue ?? "none",
                        note: HistoryText(key: channel == nil ? "answerWaitsHand" : "answerWaits", params: channel.map { ["channel": $0.rawValue] } ?? [:]))
        }
    }

    /// By SMTP, threaded under the citizen's messages.
    static func mail(_ text: String, to: String, appeal: Appeal, applicant: Applicant, job: JobRecord, app: Application) async throws {
        let store = app.store
        let now = app.clock.now()
        let code = appeal.trackingCode
        let messageID = try MailRules.messageID(code: TrackingCode(code) ?? TrackingCode(year: 0, number: 1), unique: job.requireID().uuidString.lowercased().prefix(8).description,
                                            host: app.ombudSettings.smtp?.messageIDHost ?? "ombud")
        // A retried job whose mail went out before the crash does not send it again.
        if try await CorrespondenceRecord.query(on: store.db).filter(\.$messageID == messageID).first() != nil { return }
        guard let smtp = app.ombudSettings.smtp else { throw Abort(.serviceUnavailable, reason: "no mail server is configured (OMBUD_SMTP_HOST)") }
        let inbound = try await CorrespondenceRecord.query(on: store.db).filter(\.$appealID == appeal.requireID()).filter(\.$direction == "in")
            .sort(\.$at).all().compactMap(\.messageID)
        var message = MailMessage(from: smtp.from, to: try MailAddress(to, name: applicant.fullName), subject: "[\(code)] " + app.pages.text("reply", "subject", language: .ru),
                                  text: text, messageID: messageID, date: now)
        message.references = inbound
        try await SMTPClient.send(message, settings: smtp, group: app.eventLoopGroup)
        let subject = message.subject
        try await store.write { db in
            let row = try CorrespondenceRecord(appealID: appeal.requireID(), direction: "out", channel: AppealChannel.email.rawValue, text: text, at: now)
            row.sender = smtp.from.address
            row.recipient = to
            row.subject = subject
            row.messageID = messageID
            try await row.create(on: db)
            try await HistoryRecorder(db: db, actor: actor, at: now)
                .record(entity: "appeal", id: appeal.requireID(), appealID: appeal.requireID(), action: "reply-sent", to: AppealChannel.email.rawValue)
        }
    }

    /// In Russian, the language of the law the answer is given under (the applicant's language is not recorded).
    /// `replyHint`: how to write back by mail (a chat needs no such hint).
    static func answerText(code: String, applicant: Applicant?, answers: [String], pages: Pages, replyHint: Bool) -> String {
        func text(_ key: String) -> String { pages.text("reply", key, language: .ru) }
        let greeting = applicant.map { text("dear").replacingOccurrences(of: "{name}", with: [$0.name, $0.patronymic].compactMap { $0 }.joined(separator: " ").nonEmpty ?? $0.fullName) }
            ?? text("hello")
        return ([greeting, text("intro").replacingOccurrences(of: "{code}", with: code)] + answers + (replyHint ? [text("replyHint")] : [])).joined(separator: "\n\n")
    }
}
