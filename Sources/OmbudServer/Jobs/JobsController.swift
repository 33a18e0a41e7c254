import Fluent
import Foundation
import Vapor

struct JobView: Content {
    var id: UUID
    var kind: String
    var status: String
    var runAt: Date
    var attempts: Int
    var maxAttempts: Int
    var lastError: String?
    var lockedBy: String?
    var createdAt: Date
    var finishedAt: Date?

    init(_ j: JobRecord) throws {
        id = try j.requireID()
        kind = j.kind
        status = j.status
        runAt = j.runAt
        attempts = j.attempts
        maxAttempts = j.maxAttempts
        lastError = j.lastError
        lockedBy = j.lockedBy
        createdAt = j.createdAt
        finishedAt = j.finishedAt
    }
}

/// Background jobs for administrators: what is queued, running, failed, and running a failed one again.
struct JobsController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let jobs = routes.grouped("jobs").grouped(Require(.jobsManage))
        jobs.get(use: list)
        jobs.post(":id", "retry", use: retry)
    }

    func list(req: Request) async throws -> [JobView] {
        var query = JobRecord.query(on: req.db).sort(\.$runAt, .descending)
        if let status = req.query[String.self, at: "status"] {
            guard JobQueue.Status(rawValue: status) != nil else {
                throw AppError.invalid(field: "status", reason: "one of queued, running, done, failed")
            }
            query = query.filter(\.$status == status)
        }
        if let kind = req.query[String.self, at: "kind"] { query = query.filter(\.$kind == kind) }
        let limit = req.query[Int.self, at: "limit"] ?? 100
        guard (1...1000).contains(limit) else { throw AppError.invalid(field: "limit", reason: "must be between 1 and 1000") }
        return try await query.limit(limit).all().map(JobView.init)
    }

    func retry(req: Request) async throws -> JobView {
        guard let id = req.parameters.get("id", as: UUID.self) else { throw AppError.notFound(entity: "job", id: req.parameters.get("id") ?? "") }
        let job = try await JobQueue.retry(id, now: req.now, store: req.store)
        try await req.audit("job.retry", entity: "job", entityID: id.uuidString, details: job.kind)
        return try JobView(job)
    }
}
