import Fluent
import Foundation
import OmbudDomain

/// Business calendars live in the database: a record per calendar (weekend, date system) and its exception days,
/// loaded from production-calendar files or Solar Hijri holiday data and edited by administrators. Deadline
/// arithmetic reads them through `ReferenceCache`.
enum CalendarStore {
    /// Replaces a year of a Gregorian calendar; returns the number of exception days stored.
    static func importYear(_ year: ProductionCalendarXML.Year, key: String, store: Store) async throws -> Int {
        try await store.writeReferences { db in
            _ = try await ensure(key, system: .gregorian, db: db)
            try await CalendarDayRecord.query(on: db).filter(\.$calendar == key)
                .filter(\.$date >= "\(year.year)-01-01").filter(\.$date <= "\(year.year)-12-31").delete()
            for day in year.days { try await insert(day, key: key, db: db) }
            return year.days.count
        }
    }

    /// Replaces the Solar Hijri years the holidays fall in; returns those years.
    static func importSolarHijri(_ days: [BusinessCalendar.Day], key: String, store: Store) async throws -> [Int] {
        let years = Set(days.map { SolarHijriDate($0.date).year }).sorted()
        try await store.writeReferences { db in
            _ = try await ensure(key, system: .solarHijri, db: db)
            for year in years {
                let first = SolarHijriDate(year: year, month: 1, day: 1)!.civilDate
                let last = SolarHijriDate(year: year + 1, month: 1, day: 1)!.civilDate.adding(days: -1)
                try await CalendarDayRecord.query(on: db).filter(\.$calendar == key)
                    .filter(\.$date >= first.iso).filter(\.$date <= last.iso).delete()
            }
            for day in days { try await insert(day, key: key, db: db) }
        }
        return years
    }

    /// The calendar, created with the system's usual weekend when it does not exist yet.
    static func ensure(_ key: String, system: CalendarSystem, db: any Database) async throws -> CalendarRecord {
        if let record = try await CalendarRecord.query(on: db).filter(\.$key == key).first() { return record }
        let record = CalendarRecord(key: key, name: key, system: system,
                                    weekend: system == .solarHijri ? SolarHijriHolidays.weekend : [.saturday, .sunday], now: Date())
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

    static func years(_ key: String, db: any Database) async throws -> [Int] {
        let dates = try await CalendarDayRecord.query(on: db).filter(\.$calendar == key).all(\.$date)
        return Set(dates.compactMap { Int($0.prefix(4)) }).sorted()
    }
}
