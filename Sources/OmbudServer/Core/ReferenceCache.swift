import Fluent
import Foundation
import OmbudDomain
import SQLKit

/// Reference data every request consults — assignable topics, the unit tree, the business calendar, roles — kept in memory.
/// It is small and changes rarely: writes through this process invalidate it at once, changes made by another
/// process (the CLI, a second instance) are seen within `maxAge`, and a code not found is looked up again before
/// it is refused, so a topic added elsewhere is never rejected for long.
actor ReferenceCache {
    struct Snapshot: Sendable {
        var topics: Set<String>
        var units: [String: UUID]
        var calendars: [String: BusinessCalendar]
        /// Every unit's parent, and the units of kind HQ: what access scopes are computed from.
        var unitParents: [UUID: UUID?]
        var hqUnits: Set<UUID>
        var unitCodes: [UUID: String]
        /// Active roles by key.
        var roles: [String: Set<Permission>]
        /// Task templates and timers of the workflow: the shipped ones with the administrators' timers.
        var stageControl: StageControl
        var loadedAt: Date
    }

    private var snapshot: Snapshot?
    private let maxAge: TimeInterval

    init(maxAge: TimeInterval = 30) {
        self.maxAge = maxAge
    }

    func invalidate() { snapshot = nil }

    private var districts: (list: [String], at: Date)?

    /// The districts appeals were filed under, for the intake form's suggestions. Finding them reads every appeal, so
    /// they are looked up at most every ten minutes; a new district appears in the suggestions that much later.
    func districts(db: any Database) async throws -> [String] {
        if let districts, Date().timeIntervalSince(districts.at) < 600 { return districts.list }
        let list = try await (db as! any SQLDatabase).select().distinct().column("district").from(Appeal.schema)
            .where("district", .isNot, SQLLiteral.null).orderBy("district").limit(200).all()
            .map { try $0.decode(column: "district", as: String.self) }
        districts = (list, Date())
        return list
    }

    func current(db: any Database, forceIfOlderThan minimum: TimeInterval? = nil) async throws -> Snapshot {
        let now = Date()
        if let snapshot, now.timeIntervalSince(snapshot.loadedAt) < (minimum ?? maxAge) { return snapshot }
        let topics = try await TopicRecord.query(on: db).filter(\.$assignable == true).all(\.$id)
        let units = try await OrgUnit.query(on: db).all()
        var calendars: [String: BusinessCalendar] = [:]
        for record in try await CalendarRecord.query(on: db).all() {
            calendars[record.key] = BusinessCalendar(weekend: record.weekendDays)
        }
        for row in try await CalendarDayRecord.query(on: db).all() {
            guard let date = CivilDate(iso: row.date), let kind = BusinessCalendar.DayKind(rawValue: row.kind) else { continue }
            calendars[row.calendar, default: BusinessCalendar()].add(.init(date: date, kind: kind, holiday: row.holiday))
        }
        let roles = try await RoleRecord.query(on: db).filter(\.$isActive == true).all()
        var stageControl = TaskPlanner.shipped
        if let stored = try await StageControlRecord.query(on: db).filter(\.$workflow == stageControl.workflow).first() {
            // Stored only after validation; were it unreadable (a newer version's format), the shipped timers hold.
            if let input = try? JSONDecoder().decode(TimersInput.self, from: Data(stored.timers.utf8)),
               let custom = try? stageControl.replacing(with: input, in: AppealTransitions.workflow) { stageControl = custom }
        }
        let fresh = try Snapshot(topics: Set(topics.compactMap { $0 }), units: Dictionary(units.map { ($0.code, try $0.requireID()) }, uniquingKeysWith: { a, _ in a }),
                             calendars: calendars,
                             unitParents: Dictionary(units.map { (try $0.requireID(), $0.$parent.id) }, uniquingKeysWith: { a, _ in a }),
                             hqUnits: Set(units.filter { $0.kind == OrgUnitKind.hq.rawValue }.map { try $0.requireID() }),
                             unitCodes: Dictionary(units.map { (try $0.requireID(), $0.code) }, uniquingKeysWith: { a, _ in a }),
                             roles: Dictionary(roles.map { ($0.key, $0.grants) }, uniquingKeysWith: { a, _ in a }),
                             stageControl: stageControl, loadedAt: now)
        snapshot = fresh
        return fresh
    }

    /// Codes that are not assignable topics, after a fresh look for any that seemed unknown.
    func unknownTopics(_ codes: [String], db: any Database) async throws -> [String] {
        var missing = codes.filter { !(snapshot?.topics.contains($0) ?? false) }
        if missing.isEmpty, let snapshot, Date().timeIntervalSince(snapshot.loadedAt) < maxAge { return [] }
        let fresh = try await current(db: db, forceIfOlderThan: missing.isEmpty ? nil : 1)
        missing = codes.filter { !fresh.topics.contains($0) }
        return missing
    }

    func unitID(_ code: String, db: any Database) async throws -> UUID? {
        if let snapshot, let id = snapshot.units[code], Date().timeIntervalSince(snapshot.loadedAt) < maxAge { return id }
        return try await current(db: db, forceIfOlderThan: 1).units[code]
    }

    func stageControl(db: any Database) async throws -> StageControl {
        try await current(db: db).stageControl
    }

    func calendar(_ key: String, db: any Database) async throws -> BusinessCalendar {
        try await current(db: db).calendars[key] ?? BusinessCalendar()
    }
}
