import Fluent
import Foundation
import OmbudDomain
import SQLKit
import Vapor

/// What runs a job of one kind. Handlers are registered at configuration; a job whose kind has none fails visibly.
typealias JobHandler = @Sendable (JobRecord, Application) async throws -> Void

struct JobHandlers: Sendable {
    private(set) var handlers: [String: JobHandler] = [:]
    mutating func register(_ kind: String, _ handler: @escaping JobHandler) { handlers[kind] = handler }
    subscript(kind: String) -> JobHandler? { handlers[kind] }
}

extension Application {
    private struct JobHandlersKey: StorageKey { typealias Value = JobHandlers }
    var jobHandlers: JobHandlers {
        get { storage[JobHandlersKey.self] ?? JobHandlers() }
        set { storage[JobHandlersKey.self] = newValue }
    }
}

/// Claims and runs jobs: inside `ombud serve`, and alone as `ombud worker` (as many as wanted, on PostgreSQL).
struct Worker: Sendable {
    let app: Application
    let name: String
    var policy = RetryPolicy()
    var batch = 10

    init(app: Application, name: String = "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier):\(UUID().uuidString.prefix(8))") {
        self.app = app
        self.name = name
    }

    /// Sends the alerts that fell due and runs the jobs due now; returns how much was done.
    @discardableResult
    func runOnce() async throws -> Int {
        let store = app.store
        // A failing sweep must not stop mail and housekeeping: it is logged and tried again at the next turn.
        var alerts = 0
        do { alerts = try await DeadlineSweep.run(app: app) } catch { app.logger.error("alert sweep: \(error)") }
        do { alerts += try await ReportMail.sweep(app: app) } catch { app.logger.error("report schedule: \(error)") }
        let jobs = try await JobQueue.claim(worker: name, limit: batch, now: app.clock.now(), store: store)
        for job in jobs {
            do {
                guard let handler = app.jobHandlers[job.kind] else { throw Abort(.notImplemented, reason: "no handler for jobs of kind \(job.kind)") }
                try await handler(job, app)
                try await JobQueue.complete(job, now: app.clock.now(), store: store)
            } catch {
                app.logger.warning("job \(job.kind) \(job.id?.uuidString ?? "") failed (attempt \(job.attempts)): \(error)")
                try await JobQueue.fail(job, error: String(describing: error), now: app.clock.now(), policy: policy,
                                        final: error is PermanentFailure, store: store)
            }
        }
        return alerts + jobs.count
    }

    /// Until cancelled: schedule the day's housekeeping (once a day, not at every turn: on SQLite each write waits
    /// for the one writer), run what is due, wait `interval` when nothing was.
    func run(interval: TimeInterval = 2) async {
        app.logger.notice("worker \(name) started")
        var scheduled: CivilDate?
        var digestHour: Int?
        while !Task.isCancelled {
            do {
                let now = app.clock.now()
                let today = CivilDate.of(now, in: app.ombudSettings.timeZone)
                if scheduled != today {
                    try await Housekeeping.schedule(app: app)
                    scheduled = today
                }
                let hour = Int(now.timeIntervalSince1970 / 3600)
                if digestHour != hour {
                    try await PortalDigest.schedule(app: app)
                    digestHour = hour
                }
                if try await runOnce() > 0 { continue }
            } catch {
                app.logger.error("worker \(name): \(error)")
            }
            try? await Task.sleep(nanoseconds: UInt64(interval * 1_000_000_000))
        }
        app.logger.notice("worker \(name) stopped")
    }
}

/// A real job that every installation needs: once a day, forget what no longer serves anyone — sessions ended more
/// than 30 days ago, failed-login counters older than a day, finished jobs older than 30 days, form tokens older than
/// a day, portal rate-limit counts older than a day, subscriptions never confirmed within a week, the statistics' change
/// log but its newest entries. The audit log and the history are never touched.
enum Housekeeping {
    static let kind = "housekeeping"

    static func schedule(app: Application) async throws {
        let now = app.clock.now()
        let day = CivilDate.of(now, in: app.ombudSettings.timeZone)
        _ = try await app.store.write { db in
            try await JobQueue.enqueue(kind: kind, uniqueKey: "\(kind):\(day.iso)", runAt: now, now: now, db: db)
        }
    }

    static func run(_ job: JobRecord, app: Application) async throws {
        let now = app.clock.now()
        let month = now.addingTimeInterval(-30 * 86_400)
        let lifetime = app.ombudSettings.sessionPolicy.lifetime
        try await app.store.write { db in
            try await BrowserSession.query(on: db).group(.or) { or in
                or.filter(\.$endedAt < month)
                or.group(.and) { $0.filter(\.$endedAt == nil).filter(\.$createdAt < now.addingTimeInterval(-lifetime - 30 * 86_400)) }
            }.delete()
            try await LoginThrottleRecord.query(on: db).filter(\.$lastFailureAt < now.addingTimeInterval(-86_400)).group(.or) { or in
                or.filter(\.$lockedUntil == nil)
                or.filter(\.$lockedUntil < now)
            }.delete()
            try await JobRecord.query(on: db).filter(\.$status == JobQueue.Status.done.rawValue).filter(\.$finishedAt < month).delete()
            try await FormSubmission.query(on: db).filter(\.$createdAt < now.addingTimeInterval(-86_400)).delete()
            try await PublicEvent.query(on: db).filter(\.$at < now.addingTimeInterval(-86_400)).delete()
            try await AreaSubscriptionRecord.query(on: db).filter(\.$confirmedAt == nil).filter(\.$createdAt < now.addingTimeInterval(-7 * 86_400)).delete()
            // The statistics' change log: a server further behind than this loads every appeal again.
            try await (db as! any SQLDatabase).raw(
                "DELETE FROM appeal_changes WHERE seq <= (SELECT MAX(seq) FROM appeal_changes) - \(literal: StatsIndex.kept)").run()
        }
        StagedFiles.sweep(settings: app.ombudSettings, now: now)
        // The address register learns the day's new buildings.
        try await AddressRegister.learn(store: app.store, now: now)
    }
}
