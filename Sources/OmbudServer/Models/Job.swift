import Fluent
import Foundation

/// One unit of background work. `status`: queued → running → done, or back to queued with a later `run_at` after a
/// failure, or failed once its attempts are used up.
final class JobRecord: Model, @unchecked Sendable {
    static let schema = "jobs"
    @ID(key: .id) var id: UUID?
    @Field(key: "kind") var kind: String
    /// JSON the job's handler reads.
    @Field(key: "payload") var payload: String
    /// Set for jobs that must exist once only (a reminder for one appeal, the day's housekeeping).
    @OptionalField(key: "unique_key") var uniqueKey: String?
    @Field(key: "status") var status: String
    @Field(key: "run_at") var runAt: Date
    @Field(key: "attempts") var attempts: Int
    @Field(key: "max_attempts") var maxAttempts: Int
    @OptionalField(key: "locked_by") var lockedBy: String?
    @OptionalField(key: "locked_at") var lockedAt: Date?
    @OptionalField(key: "last_error") var lastError: String?
    @Field(key: "created_at") var createdAt: Date
    @OptionalField(key: "finished_at") var finishedAt: Date?

    init() {}
}

extension JobRecord {
    /// The job's payload, as `JobQueue.Planned` wrote it.
    func decode<P: Decodable>(_ type: P.Type) throws -> P { try JSONDecoder().decode(type, from: Data(payload.utf8)) }
}
