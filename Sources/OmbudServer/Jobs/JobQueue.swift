import Fluent
import Foundation
import OmbudDomain
import SQLKit

/// The jobs table as a queue. Workers claim due jobs in one statement; on PostgreSQL the candidates are locked with
/// `FOR UPDATE SKIP LOCKED`, so several `ombud worker`/`serve` processes share the work and no job is claimed twice;
/// on SQLite the claim is one write transaction, which SQLite runs alone.
enum JobQueue {
    enum Status: String { case queued, running, done, failed }

    /// How long a claimed job may run before another worker may take it (its worker is presumed dead).
    static let lease: TimeInterval = 15 * 60

    /// A job decided on before it is written (with an appeal in the intake's transaction, or on its own).
    struct Planned: Sendable {
        var kind: String
        var payload: String
        var uniqueKey: String?

        init<P: Encodable>(kind: String, payload: P, uniqueKey: String?) throws {
            self.kind = kind
            self.payload = String(decoding: try JSONEncoder().encode(payload), as: UTF8.self)
            self.uniqueKey = uniqueKey
        }
    }

    static func enqueue(_ job: Planned, now: Date, db: any Database) async throws {
        try await enqueue(kind: job.kind, payload: job.payload, uniqueKey: job.uniqueKey, runAt: now, now: now, db: db)
    }

    /// Adds a job; with `uniqueKey`, only if no job with that key exists yet. Returns whether it was added.
    @discardableResult
    static func enqueue(kind: String, payload: String = "{}", uniqueKey: String? = nil, runAt: Date, maxAttempts: Int = RetryPolicy().maxAttempts,
                        now: Date, db: any Database) async throws -> Bool {
        let rows = try await (db as! any SQLDatabase).insert(into: JobRecord.schema)
            .columns("id", "kind", "payload", "unique_key", "status", "run_at", "attempts", "max_attempts", "created_at")
            .values(SQLBind(UUID.timeOrdered(at: now)), SQLBind(kind), SQLBind(payload), SQLBind(uniqueKey), SQLBind(Status.queued.rawValue),
                    SQLBind(runAt), SQLBind(0), SQLBind(maxAttempts), SQLBind(now))
            .ignoringConflicts(with: ["unique_key"])
            .returning("id")
            .all()
        return !rows.isEmpty
    }

    /// Claims up to `limit` due jobs for `worker` (and jobs whose worker's lease ran out), counting an attempt each.
    static func claim(worker: String, limit: Int, now: Date, store: Store) async throws -> [JobRecord] {
        let claim: @Sendable (any Database) async throws -> [UUID] = { db in
            let sql = db as! any SQLDatabase
            let lock: SQLQueryString = sql.dialect.name == "sqlite" ? "" : " FOR UPDATE SKIP LOCKED"
            let rows = try await sql.raw("""
                UPDATE jobs SET status = \(bind: Status.running.rawValue), locked_by = \(bind: worker), locked_at = \(bind: now),
                    attempts = attempts + 1
                WHERE id IN (SELECT id FROM jobs
                             WHERE (status = \(bind: Status.queued.rawValue) AND run_at <= \(bind: now))
                                OR (status = \(bind: Status.running.rawValue) AND locked_at < \(bind: now.addingTimeInterval(-lease)))
                             ORDER BY run_at LIMIT \(bind: limit)\(lock))
                RETURNING id
                """).all()
            return try rows.map { try $0.decode(column: "id", as: UUID.self) }
        }
        let ids = try await store.write(claim)
        guard !ids.isEmpty else { return [] }
        return try await JobRecord.query(on: store.db).filter(\.$id ~~ ids).sort(\.$runAt).all()
    }

    static func complete(_ job: JobRecord, now: Date, store: Store) async throws {
        job.status = Status.done.rawValue
        job.finishedAt = now
        job.lastError = nil  // `locked_by` stays: which worker ran it
        try await store.write { db in try await job.save(on: db) }
    }

    /// Back to the queue after the policy's delay, or failed for good once the attempts are used up (or at once when
    /// `final`: no retry can mend it).
    static func fail(_ job: JobRecord, error: String, now: Date, policy: RetryPolicy, final: Bool = false, store: Store) async throws {
        if !final, let next = policy.nextRun(afterAttempt: job.attempts, of: job.maxAttempts, failedAt: now) {
            job.status = Status.queued.rawValue
            job.runAt = next
        } else {
            job.status = Status.failed.rawValue
            job.finishedAt = now
        }
        job.lockedBy = nil
        job.lastError = String(error.prefix(2000))
        try await store.write { db in try await job.save(on: db) }
    }

    /// What the queue holds now and when a worker last took a job: the administrators' proof that work is being done.
    struct State: Sendable {
        var waiting = 0
        /// Queued jobs due more than a minute ago: a running worker takes a due job within seconds, so any such
        /// job means that no worker runs (or that the workers cannot keep up).
        var overdue = 0
        var failed = 0
        var lastTaken: Date?
    }

    static func state(now: Date, db: any Database) async throws -> State {
        let sql = db as! any SQLDatabase
        let row = try await sql.raw("""
            SELECT SUM(CASE WHEN status = \(bind: Status.queued.rawValue) THEN 1 ELSE 0 END) AS waiting,
                   SUM(CASE WHEN status = \(bind: Status.queued.rawValue) AND run_at < \(bind: now.addingTimeInterval(-60)) THEN 1 ELSE 0 END) AS overdue,
                   SUM(CASE WHEN status = \(bind: Status.failed.rawValue) THEN 1 ELSE 0 END) AS failed,
                   MAX(locked_at) AS last_taken
            FROM jobs
            """).first()
        // SUM over no rows is NULL.
        func count(_ column: String) throws -> Int { try row?.decode(column: column, as: Int?.self) ?? 0 }
        return State(waiting: try count("waiting"), overdue: try count("overdue"), failed: try count("failed"),
                     lastTaken: try row?.decode(column: "last_taken", as: Date?.self))
    }

    /// An administrator runs a failed job again, with a fresh set of attempts.
    static func retry(_ id: UUID, now: Date, store: Store) async throws -> JobRecord {
        try await store.write { db in
            guard let job = try await JobRecord.find(id, on: db) else { throw AppError.notFound(entity: "job", id: id.uuidString) }
            guard job.status == Status.failed.rawValue else {
                throw AppError.conflict(code: "not-failed", reason: "only a failed job can be run again (this one is \(job.status))", field: nil)
            }
            job.status = Status.queued.rawValue
            job.runAt = now
            job.attempts = 0
            job.finishedAt = nil
            try await job.save(on: db)
            return job
        }
    }
}
