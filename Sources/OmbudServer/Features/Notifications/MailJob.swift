import Fluent
import Foundation
import OmbudDomain
import Vapor

/// Mails one notification. A refusal or an unreachable server fails the job, which the queue retries with backoff;
/// the notification shows the last error meanwhile, and `failed` once the attempts are used up. The notification
/// itself is never lost: it stays in the app whatever happens to its mail.
enum MailJob {
    static let kind = "notification.mail"

    struct Payload: Codable { var notification: UUID }

    static func run(_ job: JobRecord, app: Application) async throws {
        let payload = try job.decode(Payload.self)
        let store = app.store
        guard let note = try await NotificationRecord.find(payload.notification, on: store.db) else { return }
        guard note.emailStatus == DeliveryStatus.pending.rawValue || note.emailStatus == DeliveryStatus.failed.rawValue,
              let to = note.emailTo else { return }
        do {
            guard let smtp = app.ombudSettings.smtp else { throw Abort(.serviceUnavailable, reason: "no mail server is configured (OMBUD_SMTP_HOST)") }
            let message = try MailMessage(from: smtp.from, to: try MailAddress(to), subject: note.subject, text: note.body,
                                      messageID: "\(note.requireID().uuidString.lowercased())@\(smtp.messageIDHost)", date: app.clock.now())
            try await SMTPClient.send(message, settings: smtp, group: app.eventLoopGroup)
        } catch {
            let final = job.attempts >= job.maxAttempts
            try await store.write { db in
                note.emailError = String(String(describing: error).prefix(1000))
                if final { note.emailStatus = DeliveryStatus.failed.rawValue }
                try await note.save(on: db)
            }
            throw error
        }
        try await store.write { db in
            note.emailStatus = DeliveryStatus.sent.rawValue
            note.emailedAt = app.clock.now()
            note.emailError = nil
            try await note.save(on: db)
        }
    }
}
