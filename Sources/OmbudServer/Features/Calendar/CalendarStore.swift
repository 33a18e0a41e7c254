import Fluent
import Foundation
import OmbudDomain

/// Business calendars live in the database: a record per calendar (weekend, date system) and its exception days,
/// loaded from production-calendar files or Solar Hijri holiday data and edited by administrators. Deadline
/// arithmetic reads them through `ReferenceCache`.
enum CalendarStore {
    /// Replaces a year of a Gregorian calendar; returns the number of exception days stored.
    static func importYear(_ year: ProductionCalendarXML.Year, key: String, store: Store) async throws -> Int {
        try await replace(years: [year.year], with: year.days, system: .gregorian, key: key, store: store)
        return year.days.count
    }

    /// Replaces the Solar Hijri years the holidays fall in; returns those years.
    static func importSolarHijri(_ days: [BusinessCalendar.Day], key: String, store: Store) async throws -> [Int] {
        let years = Set(days.map { CalendarSystem.solarHijri.year(of: $0.date) }).sorted()
        try await replace(years: years, with: days, system: .solarHijri, key: key, store: store)
        return years
    }

    /// The days of `years` (of the calendar's system) become exactly `days`; the calendar is created if new.
    private static func replace(years: [Int], with days: [BusinessCalendar.Day], system: CalendarSystem, key: String, store: Store) async throws {
        try await store.writeReferences { db in
            _ = try await ensure(key, system: system, db: db)
            for year in years {
                guard let range = system.days(ofYear: year) else { continue }
                try await CalendarDayRecord.query(on: db).filter(\.$calendar == key)
                    .filter(\.$date >= range.lowerBound.iso).filter(\.$date <= range.upperBound.iso).delete()
            }
            for day in days { try await insert(day, key: key, db: db) }
        }
    }

    /// The calendar, created with the system's usual weekend when it does not exist yet.
    static func ensure(_ key: String, system: CalendarSystem, db: any Database) async throws -> CalendarRecord {
        if let record = try await CalendarRecord.query(on: db).filter(\.$key == key).first() { return record }
        let record = CalendarRecord(key: key, name: key, system: system, weekend: system.defaultWeekend, now: Date())
        try await record.create(on: db)
        return record
    }

    /// Adds or replaces one day (a regional holiday, a transferred working day).
    static func setDay(_ day: BusinessCalendar.Day, key: String, store: Store) async throws {
        try await store.writeReferences { db in
            try await CalendarDayRecord.query(on: db).filter(\.$calendar == key).filter(\.$date == day.date.iso).delete()
            try await insert(day, key: key, db: db)
        }
    }

    /// Removes a day's exception: it becomes an ordinary day of its weekday again. False when there was none.
    static func removeDay(_ date: CivilDate, key: String, store: Store) async throws -> Bool {
        try await store.writeReferences { db in
            let query = CalendarDayRecord.query(on: db).filter(\.$calendar == key).filter(\.$date == date.iso)
            guard try await query.count() > 0 else { return false }
            try await query.delete()
            return true
        }
    }

    private static func insert(_ day: BusinessCalendar.Day, key: String, db: any Database) async throws {
        let record = CalendarDayRecord()
        record.calendar = key
        record.date = day.date.iso
        record.kind = day.kind.rawValue
        record.holiday = day.holiday
        try await record.create(on: db)
    }

    /// The years (of the calendar's own system) that have days.
    static func years(_ key: String, system: CalendarSystem = .gregorian, db: any Database) async throws -> [Int] {
        let dates = try await CalendarDayRecord.query(on: db).filter(\.$calendar == key).all(\.$date)
        return Set(dates.compactMap(CivilDate.init(iso:)).map(system.year(of:))).sorted()
    }
}
