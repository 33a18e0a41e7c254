import Fluent
import Foundation
import OmbudDomain
import SQLKit
import Vapor

/// Scheduled reports by mail. The worker's sweep finds reports whose moment came, moves each to its next moment
/// (only if nobody changed it since it was read) and queues a mail per recipient; each mail runs the report within
/// its recipient's scope and in their language, and attaches it as XLSX. Queued as jobs, so a mail server that is
/// down delays the mail and loses none of it.
enum ReportMail {
    static let kind = "report.mail"
    static let batch = 20

    struct Payload: Codable { var report: UUID; var login: String }

    /// Queues the report's mail to each recipient (its owner when it has no schedule); returns how many.
    @discardableResult
    static func enqueue(_ record: ReportRecord, now: Date, db: any Database) async throws -> Int {
        var logins = try record.definition().schedule?.recipients ?? []
        if logins.isEmpty, let owner = try await User.find(record.ownerID, on: db) { logins = [owner.login] }
        let id = try record.requireID()
        for login in logins {
            let payload = String(decoding: try JSONEncoder().encode(Payload(report: id, login: login)), as: UTF8.self)
            try await JobQueue.enqueue(kind: kind, payload: payload, runAt: now, now: now, db: db)
        }
        return logins.count
    }

    /// Queues the mail of the reports whose moment has come; returns how many reports were sent.
    /// Without a mail server nothing is due: the reports wait, and go out once one is configured.
    static func sweep(app: Application) async throws -> Int {
        guard app.ombudSettings.smtp != nil else { return 0 }
        let now = app.clock.now()
        let store = app.store
        let due = try await ReportRecord.query(on: store.db).filter(\.$nextRunAt <= now).sort(\.$nextRunAt).limit(batch).all()
        var sent = 0
        for record in due {
            // A definition that no longer reads is taken off the schedule, not retried at every turn before the others.
            let next: Date?
            do { next = try record.definition().schedule?.next(after: now, zone: app.ombudSettings.timeZone) } catch {
                app.logger.error("report \(record.id?.uuidString ?? ""): \(error); taken off the schedule")
                next = nil
            }
            let moved = try await store.write { db in
                let rows = try await (db as! any SQLDatabase).update(ReportRecord.schema)
                    .set("next_run_at", to: SQLBind(next)).set("last_run_at", to: SQLBind(now)).set("version", to: SQLRaw("version + 1"))
                    .where("id", .equal, SQLBind(try record.requireID())).where("version", .equal, SQLBind(record.version))
                    .returning("id").all()
                guard !rows.isEmpty, next != nil else { return false }
                try await enqueue(record, now: now, db: db)
                return true
            }
            if moved { sent += 1 }
        }
        return sent
    }

    static func run(_ job: JobRecord, app: Application) async throws {
        let payload = try job.decode(Payload.self)
        let store = app.store
        // A report deleted, a user gone or without an e-mail, a role taken away: nothing to send, and nothing to retry.
        // So is a report whose owner has left: it stops with them.
        guard let record = try await ReportRecord.find(payload.report, on: store.db),
              try await User.find(record.ownerID, on: store.db)?.isActive == true,
              let user = try await User.query(on: store.db).filter(\.$login == payload.login).first(), user.isActive,
              let address = user.email.nonBlank else { return }
        let actor = try Actor.resolve(user, token: nil, roles: try await store.references.current(db: store.db).roles)
        guard actor.can(.statsRead), try Reports.visible(record, to: actor) else { return }
        guard let smtp = app.ombudSettings.smtp else { throw Abort(.serviceUnavailable, reason: "no mail server is configured (OMBUD_SMTP_HOST)") }
        // The report is run as the recipient would run it: their scope, their language.
        let req = Request(application: app, method: .GET, url: URI(string: "/?lang=\(user.language)"), on: app.eventLoopGroup.any())
        req.auth.login(actor)
        let run = try await Reports.run(record, req: req)
        let url = try Reports.workbook(run, format: .xlsx, req: req)
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        let period = Reports.periodText(from: run.from, to: run.to, req: req)
        var text = req.text("reports", "mailText", ["rows": run.table.rows.count])
            .replacingOccurrences(of: "{name}", with: record.name).replacingOccurrences(of: "{period}", with: period)
        if let base = app.ombudSettings.publicURL { text += "\n\n\(base)/reports/\(try record.requireID())" }
        var message = try MailMessage(from: smtp.from, to: try MailAddress(address), subject: req.text("reports", "mailSubject").replacingOccurrences(of: "{name}", with: record.name),
                                      text: text, messageID: "\(job.requireID().uuidString.lowercased())@\(smtp.messageIDHost)", date: app.clock.now())
        message.attachments = [MailAttachment(name: "\(Reports.fileName(record.name)).xlsx", mediaType: TableFormat.xlsx.mediaType.serialize(),
                                              data: try Data(contentsOf: url))]
        try await SMTPClient.send(message, settings: smtp, group: app.eventLoopGroup)
    }
}
