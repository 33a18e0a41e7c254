import Fluent
import Foundation
import OmbudDomain
import SQLKit
import Vapor

/// The statistics' copy of every appeal in memory (`StatsFacts`), kept in step with the database through
/// `appeal_changes`, a log that triggers on `appeals`, `questions` and `appeal_ratings` append to in the writing
/// transaction itself, whichever code path writes. Before each answer the index reads the log past the last entry it
/// applied and reloads those appeals from their rows, so a figure includes every write committed before the question.
///
/// It loads in the background when the server starts; until then, and for a full-text `q`, the database counts
/// (`StatsQuery`'s own query, which the tests compare the index against).
actor StatsIndex {
    enum State { case off, idle, loading, ready }

    private let zone: TimeZone
    private let logger: Logger
    private var state: State
    private var facts = StatsFacts()
    /// The last log entry applied, and entries below it not seen yet (a PostgreSQL transaction that took its number
    /// earlier and commits later), with when they were first missed.
    private var lastSeq: Int64 = 0
    private var gaps: [Int64: Date] = [:]
    private var pulling: Task<Void, any Error>?
    /// When a load last failed: the next is tried a minute later, not at every question.
    private var failedAt: Date?

    /// More log entries than this since the last pull (an import) load everything again.
    static let reloadBacklog: Int64 = 50_000
    /// A gap older than this was a rolled-back transaction.
    static let gapLifetime: TimeInterval = 600
    /// The log keeps this many entries; a reader further behind loads everything again.
    static let kept: Int64 = 200_000

    init(zone: TimeZone, enabled: Bool, logger: Logger) {
        self.zone = zone
        self.logger = logger
        state = enabled ? .idle : .off
    }

    /// Whether questions are answered from memory now; a copy that failed to load starts loading again.
    func isReady(_ db: any Database) -> Bool {
        if state == .idle, failedAt.map({ Date().timeIntervalSince($0) > 60 }) ?? true { start(db) }
        return state == .ready
    }

    /// Starts loading unless it is loaded, loading or switched off.
    func start(_ db: any Database) {
        guard state == .idle else { return }
        state = .loading
        Task { await self.load(db) }
    }

    /// Loads now and returns when loaded (the tests; a server starts the load in the background).
    func prepare(_ db: any Database) async {
        guard state == .idle else { return }
        state = .loading
        await load(db)
    }

    private func load(_ db: any Database) async {
        let started = ContinuousClock.now
        do {
            let sql = db as! any SQLDatabase
            let head = try await sql.raw("SELECT MAX(seq) AS seq FROM appeal_changes").first()?.decode(column: "seq", as: Int64?.self) ?? 0
            // Entries numbered below the head that are not there yet may belong to transactions still running.
            let present = Set(try await sql.raw("SELECT seq FROM appeal_changes WHERE seq > \(bind: head - 1_000)").all()
                .map { try $0.decode(column: "seq", as: Int64.self) })
            let sink = Sink(facts: StatsFacts(), zone: zone)
            try await Self.read(sql, ids: nil, into: sink)
            facts = sink.facts
            let loaded = facts.count
            lastSeq = head
            let now = Date()
            gaps = [:]
            if head > 0 { for seq in max(head - 1_000, 0) + 1...head where !present.contains(seq) { gaps[seq] = now } }
            state = .ready
            let seconds = (ContinuousClock.now - started).seconds
            logger.notice("statistics: \(loaded) appeals in memory after \(String(format: "%.1f", seconds)) s")
        } catch {
            state = .idle
            failedAt = Date()
            logger.error("statistics: the in-memory index did not load, the database counts instead: \(error)")
        }
    }

    /// The figures from memory, after applying the log; nil while the index is not loaded. The pass runs outside the
    /// actor on the copy it had then, so questions asked at once are counted at once.
    nonisolated func run(_ query: StatsFacts.Query, db: any Database) async -> StatsFacts.Result? {
        await current(db)?.run(query)
    }

    nonisolated func grid(_ query: StatsFacts.Query, cells: MapGrid, db: any Database) async -> [(y: Int, x: Int, count: Int, overdue: Int)]? {
        await current(db)?.grid(query, cells: cells)
    }

    /// nil while the index is not loaded; `.some(nil)` when no appeal of the selection has a point.
    nonisolated func extent(_ query: StatsFacts.Query, db: any Database) async -> (minLat: Double, minLon: Double, maxLat: Double, maxLon: Double)?? {
        guard let facts = await current(db) else { return nil }
        return .some(facts.extent(query))
    }

    /// The appeals as of now: every log entry committed before the call applied.
    private func current(_ db: any Database) async -> StatsFacts? {
        await caughtUp(db) ? facts : nil
    }

    /// One pull at a time: a pull that read the log earlier must not apply older rows over a later one's. A pull
    /// that failed leaves the question to the database rather than failing it.
    private func caughtUp(_ db: any Database) async -> Bool {
        guard state == .ready else { return false }
        while let running = pulling { _ = try? await running.value }
        guard state == .ready else { return false }
        // The pull clears its own mark before it completes (it runs on this actor), so a waiter that wakes finds none.
        let task = Task {
            defer { self.pulling = nil }
            try await self.pull(db)
        }
        pulling = task
        do {
            try await task.value
        } catch {
            logger.warning("statistics: the change log could not be applied, the database counts this time: \(error)")
            return false
        }
        return state == .ready
    }

    private func pull(_ db: any Database) async throws {
        let sql = db as! any SQLDatabase
        let now = Date()
        gaps = gaps.filter { now.timeIntervalSince($0.value) < Self.gapLifetime }
        // Two subqueries: each reads one end of the key, where MIN and MAX together would read every entry.
        let bounds = try await sql.raw("""
            SELECT (SELECT MIN(seq) FROM appeal_changes) AS low, (SELECT MAX(seq) FROM appeal_changes) AS high
            """).first()
        let low = try bounds?.decode(column: "low", as: Int64?.self) ?? 0
        let high = try bounds?.decode(column: "high", as: Int64?.self) ?? 0
        // Pruned past what this copy has seen, or a backlog bigger than a reload: load everything again.
        if high - lastSeq > Self.reloadBacklog || (low > lastSeq + 1 && lastSeq > 0) || gaps.count > 10_000 {
            // In the background: until it is loaded, the database counts.
            state = .loading
            facts = StatsFacts()
            Task { await self.load(db) }
            return
        }
        guard high > lastSeq || !gaps.isEmpty else { return }
        var condition: SQLQueryString = "seq > \(bind: lastSeq)"
        if !gaps.isEmpty { condition = condition + " OR seq IN \(SQLBind.group(Array(gaps.keys)))" }
        let rows = try await sql.raw("SELECT seq, appeal_id FROM appeal_changes WHERE \(condition)").all()
        var ids: Set<UUID> = []
        var seen: Set<Int64> = []
        for row in rows {
            seen.insert(try row.decode(column: "seq", as: Int64.self))
            ids.insert(try row.decode(column: "appeal_id", as: UUID.self))
        }
        let newest = seen.max() ?? lastSeq
        var missing = gaps
        if newest > lastSeq {
            for seq in (lastSeq + 1)...newest where !seen.contains(seq) { missing[seq] = now }
        }
        for seq in seen { missing[seq] = nil }
        // Unless no pass holds the previous copy, the sink's changes copy it (once). A failed read keeps what it
        // applied (reloading is idempotent) and leaves the log position and the gaps as they were, so the next pull
        // reads the same entries again.
        let sink = Sink(facts: facts, zone: zone)
        facts = StatsFacts()
        defer { facts = sink.facts }
        try await Self.read(sql, ids: Array(ids), into: sink)
        gaps = missing
        lastSeq = max(lastSeq, newest)
    }

    /// The appeals' rows into the sink's facts: all of them (`ids` nil) or those ids (an id without a row is removed).
    private static func read(_ sql: any SQLDatabase, ids: [UUID]?, into sink: Sink) async throws {
        let chunks: [[UUID]?] = ids.map { ids in stride(from: 0, to: ids.count, by: 500).map { Array(ids[$0..<min($0 + 500, ids.count)]) } } ?? [nil]
        for chunk in chunks {
            func only(_ column: String) -> SQLQueryString {
                chunk.map { " WHERE \(unsafeRaw: column) IN \(SQLBind.group($0))" } ?? ""
            }
            try await sql.raw("SELECT appeal_id, topic_code, executor_unit_id, executor_user_id, result FROM questions\(only("appeal_id"))")
                .run { row in sink.question(row) }
            try await sql.raw("SELECT appeal_id, score, at, id FROM appeal_ratings\(only("appeal_id"))").run { row in sink.rating(row) }
            try await sql.raw("""
                SELECT id, received_at, closed_at, control_date, registration_due, under_control, status, channel, kind, office_id, \
                redirected_to_unit_id, district, extension_days, lat, lon FROM appeals\(only("id"))
                """).run { row in sink.appeal(row) }
            if let failure = sink.failure {
                sink.reset()
                throw failure
            }
            for id in chunk ?? [] where !sink.found.contains(id) { sink.facts.set(id, nil) }
            sink.reset()
        }
    }

    /// Rows arrive one by one on the database's thread, in order; questions and ratings first, then their appeals.
    private final class Sink: @unchecked Sendable {
        var facts: StatsFacts
        let zone: TimeZone
        var questions: [UUID: [StatsFacts.Question]] = [:]
        var ratings: [UUID: (score: Int, at: Date, id: String)] = [:]
        var found: Set<UUID> = []
        var failure: (any Error)?

        init(facts: StatsFacts, zone: TimeZone) {
            self.facts = facts
            self.zone = zone
        }

        func reset() {
            failure = nil
            questions = [:]
            ratings = [:]
            found = []
        }

        func question(_ row: any SQLRow) {
            do {
                let appeal = try row.decode(column: "appeal_id", as: UUID.self)
                let q = StatsFacts.Question(topic: facts.intern(try row.decode(column: "topic_code", as: String?.self)),
                                            executorUnit: facts.intern(try row.decode(column: "executor_unit_id", as: UUID?.self)),
                                            executorUser: facts.intern(try row.decode(column: "executor_user_id", as: UUID?.self)),
                                            result: facts.intern(try row.decode(column: "result", as: String?.self)))
                questions[appeal, default: []].append(q)
            } catch { failure = error }
        }

        /// The latest rating counts (by its moment, then its id, as the database query orders them).
        func rating(_ row: any SQLRow) {
            do {
                let appeal = try row.decode(column: "appeal_id", as: UUID.self)
                let rating = (score: try row.decode(column: "score", as: Int.self), at: try row.decode(column: "at", as: Date.self),
                              id: try row.decode(column: "id", as: UUID.self).uuidString)
                if let current = ratings[appeal], (current.at, current.id) > (rating.at, rating.id) { return }
                ratings[appeal] = rating
            } catch { failure = error }
        }

        func appeal(_ row: any SQLRow) {
            do {
                let id = try row.decode(column: "id", as: UUID.self)
                let received = try row.decode(column: "received_at", as: Date.self)
                let closed = try row.decode(column: "closed_at", as: Date?.self)
                func day(_ iso: String?) -> Int32 { iso.flatMap(CivilDate.init(iso:)).map { Int32($0.dayNumber) } ?? StatsFacts.noDay }
                let rating = ratings[id].map { Int8(clamping: $0.score) } ?? -1
                let fact = StatsFacts.Appeal(
                    received: received.timeIntervalSince1970, closed: closed?.timeIntervalSince1970 ?? .nan,
                    receivedDay: localDay(received), closedDay: closed.map(localDay) ?? StatsFacts.noDay,
                    controlDay: day(try row.decode(column: "control_date", as: String?.self)),
                    dueDay: day(try row.decode(column: "registration_due", as: String?.self)),
                    status: facts.intern(try row.decode(column: "status", as: String.self)),
                    channel: facts.intern(try row.decode(column: "channel", as: String.self)),
                    kind: facts.intern(try row.decode(column: "kind", as: String.self)),
                    office: facts.intern(try row.decode(column: "office_id", as: UUID?.self)),
                    redirected: facts.intern(try row.decode(column: "redirected_to_unit_id", as: UUID?.self)),
                    district: facts.intern(try row.decode(column: "district", as: String?.self)),
                    underControl: try row.decode(column: "under_control", as: Bool.self),
                    extended: try row.decode(column: "extension_days", as: Int.self) > 0,
                    lat: try row.decode(column: "lat", as: Double?.self) ?? .nan, lon: try row.decode(column: "lon", as: Double?.self) ?? .nan,
                    rating: rating)
                facts.set(id, fact, questions: questions[id] ?? [])
                found.insert(id)
            } catch { failure = error }
        }

        private func localDay(_ moment: Date) -> Int32 { Int32(CivilDate.of(moment, in: zone).dayNumber) }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
