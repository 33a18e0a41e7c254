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
        let sms = settings.channels.sms
        func channel(_ name: String, _ on: Bool, _ state: String? = nil, _ address: String, _ variables: String) -> [String: Any] {
            ["name": name, "state": state ?? (on ? req.text("admin", "channelOn") : req.text("admin", "channelOff")), "address": address, "variables": variables]
        }
        let channels = [
            channel("E-mail", settings.smtp != nil, nil, "ombud mail-in", "OMBUD_SMTP_HOST"),
            channel("Telegram", settings.channels.telegram != nil, nil, base + "/channels/telegram", "OMBUD_TELEGRAM_TOKEN, OMBUD_TELEGRAM_SECRET"),
            channel("VK", settings.channels.vk != nil, nil, base + "/channels/vk", "OMBUD_VK_TOKEN, OMBUD_VK_GROUP_ID, OMBUD_VK_SECRET, OMBUD_VK_CONFIRMATION"),
            channel("SMS", sms != nil, sms != nil && sms?.outbound == nil ? req.text("admin", "channelInOnly") : nil, base + "/channels/sms",
                    "OMBUD_SMS_SECRET, OMBUD_SMS_URL"),
        ]
        // Jobs that met an error: being tried again, or failed for good.
        let jobs = try await JobRecord.query(on: req.db).filter(\.$kind ~~ kinds).filter(\.$lastError != nil)
            .filter(\.$status ~~ [JobQueue.Status.queued.rawValue, JobQueue.Status.failed.rawValue])
            .sort(\.$runAt, .descending).limit(100).all()
        struct Subject: Decodable { var appeal: UUID? }
        let subjects = jobs.map { try? $0.decode(Subject.self).appeal }
        let codes = try await AppealQueries.trackingCodes(subjects.compactMap { $0 }, db: req.db)
        let rows: [[String: Any]] = try zip(jobs, subjects).map { job, subject in
            let appeal = subject.flatMap { codes[$0] }
            let failed = job.status == JobQueue.Status.failed.rawValue
            return ["id": try job.requireID().uuidString, "kind": req.text("jobKinds", job.kind), "appeal": appeal, "error": req.text("jobErrors", Self.errorKind(job.lastError ?? "")), "detail": job.lastError ?? "",
                    "attempts": req.text("admin", "attempts", ["n": job.attempts, "of": job.maxAttempts]), "failed": failed,
                    "when": failed ? job.finishedAt.map { f.dateTime($0) } : req.text("admin", "nextTry").replacingOccurrences(of: "{at}", with: f.dateTime(job.runAt))].present
        }
        let queue = try await JobQueue.state(now: req.now, db: req.db)
        let queueState: [String: Any] = [
            "waiting": req.text("admin", "queueWaiting", ["n": queue.waiting]),
            "overdue": req.text("admin", "queueOverdue", ["n": queue.overdue]),
            "failed": req.text("admin", "queueFailed", ["n": queue.failed]),
            "lastTaken": queue.lastTaken.map { req.text("admin", "queueLastTaken").replacingOccurrences(of: "{at}", with: f.dateTime($0)) }
                ?? req.text("admin", "queueNeverTaken"),
            "here": req.text("admin", settings.runWorker ? "queueWorkerHere" : "queueNoWorkerHere"),
            "stalled": queue.overdue > 0,
        ]
        return req.page("admin-channels", ["channels": channels, "jobs": rows, "hasJobs": !rows.isEmpty, "notice": notice,
                                           "queue": queueState, "allSent": rows.isEmpty && queue.overdue == 0].present)
    }

    func retry(req: Request) async throws -> Response {
        guard let id = req.parameters.get("id", as: UUID.self), let job = try await JobRecord.find(id, on: req.db), Self.kinds.contains(job.kind) else {
            throw AppError.notFound(entity: "job", id: req.parameters.get("id") ?? "")
        }
        _ = try await JobQueue.retry(id, now: req.now, store: req.store)
        try await req.audit("job.retry", entity: "job", entityID: id.uuidString, details: job.kind)
        return try await Self.page(req, notice: req.text("admin", "retryQueued"))
    }

    /// What went wrong, in the reader's words; the technical message stays beside it for the administrator.
    static func errorKind(_ message: String) -> String {
        let text = message.lowercased()
        if text.contains("no mail server") { return "mailOff" }
        if text.contains("is not configured") { return "notConfigured" }
        if text.contains("timed out") || text.contains("timeout") { return "timeout" }
        if text.contains("refused") || text.contains("connect") || text.contains("http 5") || text.contains("502") || text.contains("503") { return "unreachable" }
        return "other"
    }
}
