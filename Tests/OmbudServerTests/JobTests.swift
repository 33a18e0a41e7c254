import Fluent
import Foundation
import OmbudDomain
import Testing
import Vapor
import VaporTesting
@testable import OmbudServer

/// Counts how often each job ran, across workers.
actor RunLog {
    private(set) var runs: [UUID: Int] = [:]
    private(set) var workers: Set<String> = []
    func ran(_ id: UUID, by worker: String = "") {
        runs[id, default: 0] += 1
        workers.insert(worker)
    }
}

extension OmbudServerSuite {
    @Suite struct JobTests {
        @Test func jobsRunOnceAndUniqueKeysAreNotDuplicated() async throws {
            try await withOmbud { ctx, clock in
                let log = RunLog()
                ctx.app.jobHandlers.register("probe") { job, _ in await log.ran(job.id!) }
                let now = clock.now
                try await ctx.app.store.write { db in
                    #expect(try await JobQueue.enqueue(kind: "probe", uniqueKey: "probe:1", runAt: now, now: now, db: db))
                    #expect(try await !JobQueue.enqueue(kind: "probe", uniqueKey: "probe:1", runAt: now, now: now, db: db))
                    try await JobQueue.enqueue(kind: "probe", runAt: now.addingTimeInterval(60), now: now, db: db)
                }
                let worker = Worker(app: ctx.app, name: "w1")
                #expect(try await worker.runOnce() == 1)  // the other is not due yet
                clock.now = now.addingTimeInterval(61)
                #expect(try await worker.runOnce() == 1)
                #expect(try await worker.runOnce() == 0)
                #expect(await log.runs.values.sorted() == [1, 1])
                #expect(try await JobRecord.query(on: ctx.app.db).filter(\.$status == "done").count() == 2)
            }
        }

        @Test func failedJobsBackOffThenFailVisiblyAndCanBeRunAgain() async throws {
            try await withOmbud { ctx, clock in
                ctx.app.jobHandlers.register("flaky") { _, _ in throw Abort(.badGateway, reason: "SMTP server refused") }
                let now = clock.now
                _ = try await ctx.app.store.write { db in try await JobQueue.enqueue(kind: "flaky", runAt: now, maxAttempts: 3, now: now, db: db) }
                _ = try await ctx.app.store.write { db in try await JobQueue.enqueue(kind: "nobody-handles-this", runAt: now, maxAttempts: 1, now: now, db: db) }
                let worker = Worker(app: ctx.app, name: "w1")
                #expect(try await worker.runOnce() == 2)
                let job = try #require(try await JobRecord.query(on: ctx.app.db).filter(\.$kind == "flaky").first())
                #expect(job.status == "queued" && job.attempts == 1 && abs(job.runAt.timeIntervalSince(now.addingTimeInterval(30))) < 0.000_01)
                #expect(job.lastError?.contains("SMTP server refused") == true)
                #expect(try await worker.runOnce() == 0)  // waiting out the backoff
                clock.now = now.addingTimeInterval(30)
                #expect(try await worker.runOnce() == 1)
                clock.now = now.addingTimeInterval(30 + 60)
                #expect(try await worker.runOnce() == 1)
                try await ctx.get("/api/v1/jobs?status=failed") { res in
                    let failed = try res.content.decode([JobView].self)
                    #expect(Set(failed.map(\.kind)) == ["flaky", "nobody-handles-this"])
                    #expect(failed.first { $0.kind == "nobody-handles-this" }?.lastError?.contains("no handler") == true)
                }
                try await ctx.post("/api/v1/jobs/\(job.id!)/retry", [String: String]()) { res in
                    #expect(res.status == .ok)
                    let job = try res.content.decode(JobView.self)
                    #expect(job.status == "queued")
                }
                try await ctx.post("/api/v1/jobs/\(job.id!)/retry", [String: String]()) { #expect($0.status == .conflict) }
                try await ctx.get("/api/v1/jobs?status=exploded") { #expect($0.status == .unprocessableEntity) }
            }
        }

        @Test func housekeepingIsScheduledOncePerDayAndKeepsTheAuditLog() async throws {
            try await withOmbud { ctx, clock in
                try await Housekeeping.schedule(app: ctx.app)
                try await Housekeeping.schedule(app: ctx.app)
                #expect(try await JobRecord.query(on: ctx.app.db).filter(\.$kind == Housekeeping.kind).count() == 1)
                _ = try await Accounts.addUser(login: "old", password: "old-password", roles: ["reception"], fullName: nil, unitCodes: [],
                                               store: ctx.app.store, now: clock.now)
                let user = try await User.query(on: ctx.app.db).filter(\.$login == "old").first()!
                let now = clock.now
                let (session, _) = try await ctx.app.store.write { db in try await Sessions.start(user: user, address: nil, userAgent: nil, now: now, db: db) }
                try await Sessions.end(session, reason: "logout", store: ctx.app.store, now: clock.now)
                let audit = try await AuditRecord.query(on: ctx.app.db).count()
                clock.now = clock.now.addingTimeInterval(31 * 86_400)
                try await Housekeeping.schedule(app: ctx.app)
                while try await Worker(app: ctx.app, name: "w").runOnce() > 0 {}
                #expect(try await BrowserSession.query(on: ctx.app.db).count() == 0)
                #expect(try await AuditRecord.query(on: ctx.app.db).count() == audit)
            }
        }

        /// Two workers with their own connection pools on one PostgreSQL database: 300 jobs, each run exactly once.
        @Test(.enabled(if: TestData.postgresURL != nil, "needs PostgreSQL")) func twoWorkersShareTheQueueAndRunEachJobOnce() async throws {
            try await withOmbud { ctx, clock in
                let log = RunLog()
                let now = clock.now
                try await ctx.app.store.write { db in
                    for _ in 0..<300 { try await JobQueue.enqueue(kind: "probe", runAt: now, now: now, db: db) }
                }
                let second = try await Application.make(.testing)
                do {
                    try await configure(second, settings: ctx.settings)
                    second.clock = ctx.app.clock
                    for (app, name) in [(ctx.app, "a"), (second, "b")] {
                        app.jobHandlers.register("probe") { job, _ in
                            await log.ran(job.id!, by: name)
                            try await Task.sleep(nanoseconds: 200_000)
                        }
                    }
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for (app, name) in [(ctx.app, "a"), (second, "b")] {
                            group.addTask {
                                var worker = Worker(app: app, name: name)
                                worker.batch = 7
                                while try await worker.runOnce() > 0 {}
                            }
                        }
                        try await group.waitForAll()
                    }
                } catch {
                    try? await second.asyncShutdown()
                    throw error
                }
                try await second.asyncShutdown()
                let runs = await log.runs
                #expect(runs.count == 300 && runs.values.allSatisfy { $0 == 1 })
                #expect(await log.workers == ["a", "b"])  // both took a share
                #expect(try await JobRecord.query(on: ctx.app.db).filter(\.$status == "done").count() == 300)
            }
        }
    }
}
