import Fluent
import Foundation
import OmbudDomain
import Vapor

/// Mail to citizens who are not users: the secret link of a new appeal, a subscription's confirmation and its
/// digests. Queued as jobs, so a mail server that is down delays the mail and loses none of it.
enum PortalMail {
    static let kind = "portal.mail"

    /// `linkFor`: the mail carries a new secret status link of that appeal in place of `{link}` in its text, made when
    /// the mail is sent (see `PortalLink`).
    struct Payload: Codable { var to: String; var subject: String; var text: String; var linkFor: UUID? = nil }

    /// Queues the mail; without a mail server and the public address (`Settings.portalMail`) nothing is queued.
    static func enqueue(to: String, subject: String, text: String, linkFor: UUID? = nil, settings: Settings, now: Date,
                        db: any Database) async throws {
        guard settings.portalMail else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        let payload = String(decoding: try encoder.encode(Payload(to: to, subject: subject, text: text, linkFor: linkFor)), as: UTF8.self)
        try await JobQueue.enqueue(kind: kind, payload: payload, runAt: now, now: now, db: db)
    }

    static func run(_ job: JobRecord, app: Application) async throws {
        let payload = try job.decode(Payload.self)
        guard let smtp = app.ombudSettings.smtp else { throw Abort(.serviceUnavailable, reason: "no mail server is configured (OMBUD_SMTP_HOST)") }
        var text = payload.text
        if let appeal = payload.linkFor, let base = app.ombudSettings.publicURL {
            let secret = PublicAppeals.secret()
            let now = app.clock.now()
            try await app.store.write { db in try await PortalLink(tokenHash: Tokens.hash(secret), appealID: appeal, createdAt: now).create(on: db) }
            text = text.replacingOccurrences(of: "{link}", with: "\(base)/portal/s/\(secret)")
        }
        let message = try MailMessage(from: smtp.from, to: try MailAddress(payload.to), subject: payload.subject, text: text,
                                  messageID: "\(job.requireID().uuidString.lowercased())@\(smtp.messageIDHost)", date: app.clock.now())
        try await SMTPClient.send(message, settings: smtp, group: app.eventLoopGroup)
    }
}

/// Once an hour: each confirmed subscription gets one mail listing the public appeals that appeared in its area
/// since its last mail (none when nothing appeared).
enum PortalDigest {
    static let kind = "portal.digest"
    static let maxItems = 50

    static func schedule(app: Application) async throws {
        let now = app.clock.now()
        let hour = W3CDateTime.string(now, zone: TimeZone(secondsFromGMT: 0)!).prefix(13)
        _ = try await app.store.write { db in
            try await JobQueue.enqueue(kind: kind, uniqueKey: "\(kind):\(hour)", runAt: now, now: now, db: db)
        }
    }

    static func run(_ job: JobRecord, app: Application) async throws {
        let now = app.clock.now()
        let db = app.db
        guard app.ombudSettings.portalMail, let base = app.ombudSettings.publicURL else { return }
        let subscriptions = try await AreaSubscriptionRecord.query(on: db).filter(\.$confirmedAt != nil).all()
        guard let oldest = subscriptions.map({ $0.lastSentAt ?? $0.confirmedAt ?? $0.createdAt }).min() else { return }
        let fresh = try await PublicAppeals.find(.init(from: oldest, limit: 5000), db: db)
        let topics = Dictionary(uniqueKeysWithValues: try await TopicRecord.query(on: db).filter(\.$id ~~ Set(fresh.compactMap(\.topicCode))).all()
            .map { (try $0.requireID(), $0.name) })
        let pages = app.pages
        try await app.store.write { db in
            for s in subscriptions {
                let since = s.lastSentAt ?? s.confirmedAt ?? s.createdAt
                let area = AreaSubscription(district: s.district, center: s.lat.flatMap { lat in s.lon.map { (lat, $0) } }, radius: s.radius)
                let items = fresh.filter { $0.receivedAt > since && area.covers(district: $0.district, lat: $0.lat, lon: $0.lon) }
                s.lastSentAt = now
                try await s.save(on: db)
                guard !items.isEmpty else { continue }
                let language = UILanguage(rawValue: s.language) ?? .ru
                let lines = items.prefix(maxItems).map { v in
                    "\(v.trackingCode) · \(v.topicCode.flatMap { topics[$0] } ?? "—") · \(v.district ?? "") · \(pages.text("states", v.status, language: language))"
                }
                let text = pages.text("portal", "digestIntro", language: language, values: ["n": items.count]) + "\n\n" + lines.joined(separator: "\n")
                    + "\n\n\(base)/portal/appeals\n\n" + pages.text("portal", "unsubscribeHint", language: language)
                    + "\n\(base)/portal/subscriptions/\(s.token)"
                try await PortalMail.enqueue(to: s.email, subject: pages.text("portal", "digestSubject", language: language), text: text,
                                             settings: app.ombudSettings, now: now, db: db)
            }
        }
    }
}
