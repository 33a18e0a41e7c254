import Fluent
import Foundation
import OmbudDomain
import Vapor

/// E-mail in, as a mail transport agent hands it over (`ombud mail-in`, like Request Tracker's mail gateway): a new
/// appeal on the `e-mail` channel, or — when the subject or the thread names one — a message added to that appeal's
/// correspondence. The raw message is kept with the appeal; one that cannot be read is kept in the quarantine folder.
enum MailGateway {
    enum Outcome: Equatable, Sendable {
        case created(String)
        case added(String)
        case duplicate(String)
        /// Automatic mail that names no appeal: kept in `mail/ignored/`, not an appeal, not an error (an error would
        /// make the mail server bounce it, and a bounce to an auto-responder is how mail loops start).
        case ignored(String)
    }

    struct Quarantined: Error, CustomStringConvertible {
        let reason: String
        let file: URL
        var description: String { "quarantined (\(reason)): \(file.path)" }
    }

    static let maxMessage = 50 * 1024 * 1024
    static let actor = Actor.system("mail-in")

    static func quarantineFolder(_ settings: Settings) -> URL {
        settings.dataDirectory.appendingPathComponent("mail/quarantine", isDirectory: true)
    }

    /// Receives one message; throws `Quarantined` (the message kept, with the reason beside it) when it cannot be taken.
    static func receive(_ raw: [UInt8], app: Application, now: Date) async throws -> Outcome {
        let settings = app.ombudSettings
        func keep(_ reason: String, in folder: URL) throws -> URL {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let stamp = W3CDateTime.string(now, zone: TimeZone(secondsFromGMT: 0)!).replacingOccurrences(of: ":", with: "")
            let name = "\(stamp)-\(Tokens.hash(String(decoding: raw.prefix(1_000_000), as: UTF8.self)).prefix(12))"
            let file = folder.appendingPathComponent(name + ".eml")
            try Data(raw).write(to: file)
            try Data((reason + "\n").utf8).write(to: folder.appendingPathComponent(name + ".reason"))
            return file
        }
        func quarantine(_ reason: String) throws -> Quarantined {
            Quarantined(reason: reason, file: try keep(reason, in: quarantineFolder(settings)))
        }
        guard raw.count <= maxMessage else { throw try quarantine("the message is larger than \(maxMessage / 1_048_576) MB") }
        let mail: InboundMail
        do throws(MailParseError) { mail = try InboundMail.parse(raw) } catch { throw try quarantine(error.reason) }
        let automatic = MailRules.isAutomatic(mail.headers)
        let store = app.store
        let db = store.db
        if let id = mail.messageID, let seen = try await CorrespondenceRecord.query(on: db).filter(\.$messageID == id).first() {
            return .duplicate(try await AppealQueries.trackingCodes([seen.appealID], db: db)[seen.appealID] ?? "")
        }
        // A reply to an appeal joins its correspondence, automatic or not (it is never answered either way).
        if let code = MailRules.trackingCode(subject: mail.subject, threadIDs: mail.threadIDs),
           let appeal = try await Appeal.query(on: db).filter(\.$trackingCode == code.description).first() {
            let (letter, note) = try entry(mail, appealID: appeal.requireID(), automatic: automatic, now: now)
            try await Correspondence.add(letter, notes: [note], actor: actor, now: now, store: store)
            try await keepFiles(mail, raw: raw, appealID: appeal.requireID(), app: app, now: now)
            return .added(appeal.trackingCode)
        }
        if automatic {
            let reason = "automatic mail (an auto-reply, a bounce or a list) that names no appeal"
            return .ignored(try keep(reason, in: settings.dataDirectory.appendingPathComponent("mail/ignored", isDirectory: true)).path)
        }
        guard let from = mail.fromAddress, let email = TextNormalizer.emailKey(from) else { throw try quarantine("no sender address to answer") }
        let text = [mail.subject, mail.text].filter { !$0.isEmpty }.joined(separator: "\n\n")
        guard !text.isEmpty || !mail.attachments.isEmpty else { throw try quarantine("an empty message") }
        var applicant = ApplicantInput(email: email, contactSource: "e-mail")
        if let existing = try await ApplicantSearch.byContact([email], db: db).first(where: { $0.mergedIntoID == nil }) {
            applicant = ApplicantInput(id: existing.id)
        } else {
            (applicant.surname, applicant.name) = MailboxParser.cardName(display: mail.fromName, email: email)
        }
        let input = AppealInput(channel: AppealChannel.email.rawValue,
                                text: text.isEmpty ? app.pages.text("reply", "filesOnly", language: .ru) : String(text.prefix(Validate.maxTextLength)),
                                kind: AppealKind.statement.rawValue, form: AppealForm.electronic.rawValue, applicant: applicant)
        let validated: AppealIntake.Validated
        do throws(ValidationError) { validated = try AppealIntake.validate(input, now: now) } catch {
            throw try quarantine("\(error.field): \(error.reason)")
        }
        var prepared = try await AppealIntake.prepare(validated, actor: actor, settings: settings, store: store, now: now)
        // The message is written with the appeal: a new appeal always has the Message-ID its answer threads under.
        let (letter, note) = entry(mail, appealID: prepared.id, automatic: false, now: now)
        prepared.letters = [letter]
        prepared.notes = [note]
        let code = try await app.ombud.intake.submit(prepared)
        try await keepFiles(mail, raw: raw, appealID: prepared.id, app: app, now: now)
        return .created(code)
    }

    /// The message as the appeal's correspondence, and its line in the history.
    static func entry(_ mail: InboundMail, appealID: UUID, automatic: Bool, now: Date) -> (CorrespondenceRecord, HistoryNote) {
        let row = CorrespondenceRecord(appealID: appealID, direction: "in", channel: AppealChannel.email.rawValue, text: mail.text, at: now,
                                       automatic: automatic)
        row.sender = mail.fromAddress
        row.recipient = mail.headers["To"].map(EncodedWords.decode)
        row.subject = mail.subject
        row.messageID = mail.messageID
        return (row, HistoryNote(action: "mail-in", to: AppealChannel.email.rawValue, comment: mail.subject,
                                note: automatic ? HistoryText(key: "automaticMail") : nil))
    }

    /// The raw message and its files as the appeal's attachments.
    static func keepFiles(_ mail: InboundMail, raw: [UInt8], appealID: UUID, app: Application, now: Date) async throws {
        let (settings, store) = (app.ombudSettings, app.store)
        _ = try await AttachmentStore.save(appealID: appealID, fileName: "message-\(now.timeIntervalSince1970).eml", data: ByteBuffer(bytes: raw),
                                           actor: actor, settings: settings, store: store, now: now, limit: max(settings.attachmentLimit, maxMessage))
        for file in mail.attachments where !file.data.isEmpty && file.data.count <= settings.attachmentLimit {
            _ = try await AttachmentStore.save(appealID: appealID, fileName: file.fileName.replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "\\", with: "_"),
                                               data: ByteBuffer(bytes: file.data), actor: actor, settings: settings, store: store, now: now)
        }
    }
}
