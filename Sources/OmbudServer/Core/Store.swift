import Fluent
import SQLKit
import Vapor

/// The database with the write discipline of its engine.
struct Store: Sendable {
    let db: any Database
    /// Set on SQLite only: there, writes queue in-process.
    let gate: WriteGate?
    let references: ReferenceCache

    var sql: any SQLDatabase { db as! any SQLDatabase }
    var isSQLite: Bool { gate != nil }

    /// A write that changes reference data (topics, units, calendars): the in-memory copy is dropped once it commits.
    func writeReferences<T: Sendable>(_ body: @escaping @Sendable (any Database) async throws -> T) async throws -> T {
        let result = try await write(body)
        await references.invalidate()
        return result
    }

    /// One write transaction; on SQLite, one at a time.
    func write<T: Sendable>(_ body: @escaping @Sendable (any Database) async throws -> T) async throws -> T {
        guard let gate else { return try await db.transaction(body) }
        return try await gate.locked { try await db.transaction(body) }
    }
}

struct OmbudContext: Sendable {
    let settings: Settings
    let gate: WriteGate?
    /// SQLite only: the dedicated connection intake batches are written through.
    let writer: SQLiteWriter?
    let intake: IntakeQueue
    /// Audit records of requests, written in shared transactions (a burst of card views costs one commit).
    let audit: GroupCommit<AuditRecord, Void>
    let references: ReferenceCache
    /// Every appeal as the statistics count it, in memory.
    let stats: StatsIndex
}

extension Application {
    private struct ContextKey: StorageKey { typealias Value = OmbudContext }

    var ombud: OmbudContext {
        get { storage[ContextKey.self]! }
        set { storage[ContextKey.self] = newValue }
    }

    var store: Store { Store(db: db, gate: ombud.gate, references: ombud.references) }
    public var ombudSettings: Settings { ombud.settings }
}

extension Request {
    var store: Store { Store(db: db, gate: application.ombud.gate, references: application.ombud.references) }
    var settings: Settings { application.ombud.settings }
    var intake: IntakeQueue { application.ombud.intake }
}
