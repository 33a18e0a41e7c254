import Fluent
import Foundation
import OmbudDomain
import Vapor

/// `/admin/channels`: which channels are on and the address each network must be given, and every message to a
/// citizen that did not go out (an answer, a notice, a file or a name not fetched): still being tried, or failed for
/// good with the network's words and a button to try again.
struct ChannelAdminPages: RouteCollection {
    static let kinds = [ReplyJob.kind, ChannelNotice.kind, ChannelFiles.kind, ChannelProfile.kind]

    func boot(routes: any RoutesBuilder) throws {
        let admin = routes.grouped(PageGuard(), RememberLanguage(), Require(.jobsManage)).grouped("admin", "channels")
        admin.get(use: page)
        admin.post("jobs", ":id", "retry", use: retry)
    }

    func page(req: Request) async throws -> Response { try await Self.page(req) }

    static func page(_ req: Request, notice: String? = nil) async throws -> Response {
        let settings = req.settings
        let f = req.format
        let base = req.baseURL
        let on = req.text("admin", "channelOn"), off = req.text("admin", "channelOff")
        let channels: [[String: Any]] = [
            ["name": "E-mail", "on": settings.smtp != nil, "state": settings.smtp != nil ? on : off, "address": "ombud mail-in", "variables": "OMBUD_SMTP_HOST"],
            ["name": "Telegram", "on": settings.channels.telegram != nil, "state": settings.channels.telegram != nil ? on : off,
             "address": base + "/channels/telegram", "variables": "OMBUD_TELEGRAM_TOKEN, OMBUD_TELEGRAM_SECRET"],
            ["name": "VK", "on": settings.channels.vk != nil, "state": settings.channels.vk != nil ? on : off, "address": base + "/channels/vk",
             "variables": "OMBUD_VK_TOKEN, OMBUD_VK_GROUP_ID, OMBUD_VK_SECRET, OMBUD_VK_CONFIRMATION"],
            ["name": "SMS", "on": settings.channels.sms != nil,
             "state": settings.channels.sms == nil ? off : settings.channels.sms?.outbound == nil ? req.text("admin", "channelInOnly") : on,
             "address": base + "/channels/sms", "variables": "OMBUD_SMS_SECRET, OMBUD_SMS_URL"],
        ]
        // Jobs that met an error: being tried again, or failed for good.
        let jobs = try await JobRecord.query(on: req.db).filter(\.$kind ~~ kinds).filter(\.$lastError != nil)
            .filter(\.$status ~~ [JobQueue.Status.queued.rawValue, JobQueue.Status.failed.rawValue])
            .sort(\.$runAt, .descending).limit(100).all()
        struct Subject: Decodable { var appeal: UUID? }
        let appealIDs = jobs.compactMap { try? JSONDecoder().decode(Subject.self, from: Data($0.payload.utf8)).appeal }
        let codes = try await AppealQueries.trackingCodes(appealIDs, db: req.db)
        let rows: [[String: Any]] = jobs.map { job in
            let appeal = (try? JSONDecoder().decode(Subject.self, from: Data(job.payload.utf8)).appeal).flatMap { codes[$0] }
            let failed = job.status == JobQueue.Status.failed.rawValue
            return ["id": job.id!.uuidString, "kind": req.text("jobKinds", job.kind), "appeal": appeal, "error": job.lastError ?? "",
                    "attempts": req.text("admin", "attempts", ["n": job.attempts, "of": job.maxAttempts]), "failed": failed,
                    "when": failed ? job.finishedAt.map { f.dateTime($0) } : req.text("admin", "nextTry").replacingOccurrences(of: "{at}", with: f.dateTime(job.runAt))].present
        }
        return req.page("admin-channels", ["channels": channels, "jobs": rows, "hasJobs": !rows.isEmpty, "notice": notice].present)
    }

    func retry(req: Request) async throws -> Response {
        guard let id = req.parameters.get("id", as: UUID.self), let job = try await JobRecord.find(id, on: req.db), Self.kinds.contains(job.kind) else {
            throw AppError.notFound(entity: "job", id: req.parameters.get("id") ?? "")
        }
        _ = try await JobQueue.retry(id, now: req.now, store: req.store)
        try await req.audit("job.retry", entity: "job", entityID: id.uuidString, details: job.kind)
        return try await Self.page(req, notice: req.text("admin", "retryQueued"))
    }
}
